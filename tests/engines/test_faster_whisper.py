"""The faster-whisper engine with the real ``tiny.en`` model on espeak-ng speech."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from projectw.runner.engines.base import EngineCancelled, EngineError
from projectw.runner.engines.faster_whisper import (
    FasterWhisperEngine,
    create,
    decode_arguments,
    numeral_tokens,
)
from projectw.runner.engines.job_options import read_job_options
from projectw.runner.models import EngineConfig, ModelSources
from tests.engines.speech import SENTENCE, duration, long_speech, speak, wer
from tests.media import MediaFactory

ENGLISH = {"model": "tiny.en", "language": "en"}


class Progress:
    """Collects (stage, percent) reports; optionally sets ``cancel`` once decoding is under way."""

    def __init__(self, cancel: threading.Event | None = None) -> None:
        self.reports: list[tuple[str, float]] = []
        self.cancel = cancel

    def __call__(self, stage: str, percent: float) -> None:
        self.reports.append((stage, percent))
        if self.cancel is not None and stage == "transcribing" and percent > 0:
            self.cancel.set()


def make_engine(tmp_path: Path, tiny_model: Path, **config: Any) -> FasterWhisperEngine:
    sources = ModelSources(
        model_paths={"tiny.en": tiny_model},
        models_dir=tmp_path / "models",
        cache_dir=tmp_path / "cache",
        offline=config.pop("offline", True),
    )
    return FasterWhisperEngine(EngineConfig(sources=sources, **config))


@pytest.fixture
def engine(tmp_path: Path, tiny_model: Path) -> Any:
    engine = make_engine(tmp_path, tiny_model)
    yield engine
    engine.close()


def test_transcribes_speech_with_word_timings(engine: FasterWhisperEngine, sentence_wav: Path):
    progress = Progress()
    transcript = engine.transcribe(sentence_wav, ENGLISH, progress, threading.Event())

    assert wer(SENTENCE, transcript.text) <= 0.25, transcript.text
    assert transcript.language == "en"
    assert transcript.engine is not None
    assert (transcript.engine.name, transcript.engine.model) == ("faster-whisper", "tiny.en")
    length = duration(sentence_wav)
    assert transcript.duration == pytest.approx(length, abs=0.05)
    words = [word for segment in transcript.segments for word in segment.words]
    assert len(words) >= 10
    for word in words:
        assert word.start is not None and word.end is not None
        assert 0 <= word.start <= word.end <= length + 0.05
        assert word.probability is not None and 0 <= word.probability <= 1
        assert word.word == word.word.strip()
    assert progress.reports[0] == ("loading_model", 0.0)
    assert progress.reports[-1] == ("transcribing", 100.0)


def test_without_alignment_segments_have_no_words(
    engine: FasterWhisperEngine, sentence_wav: Path
) -> None:
    settings = {**ENGLISH, "alignment": None}
    transcript = engine.transcribe(sentence_wav, settings, Progress(), threading.Event())
    assert wer(SENTENCE, transcript.text) <= 0.25
    assert all(not segment.words for segment in transcript.segments)


def test_batched_pipeline(tmp_path: Path, tiny_model: Path, sentence_wav: Path) -> None:
    engine = make_engine(tmp_path, tiny_model, batch_size=4)
    try:
        transcript = engine.transcribe(sentence_wav, ENGLISH, Progress(), threading.Event())
    finally:
        engine.close()
    assert wer(SENTENCE, transcript.text) <= 0.25, transcript.text
    assert all(word.end is not None for s in transcript.segments for word in s.words)


def test_language_is_detected_when_not_given(
    engine: FasterWhisperEngine, sentence_wav: Path
) -> None:
    transcript = engine.transcribe(
        sentence_wav, {"model": "tiny.en"}, Progress(), threading.Event()
    )
    assert transcript.language == "en"


def test_second_job_reuses_the_warm_model(engine: FasterWhisperEngine, sentence_wav: Path):
    engine.transcribe(sentence_wav, ENGLISH, Progress(), threading.Event())
    model = engine.warm._entries["tiny.en"].value
    engine.transcribe(sentence_wav, ENGLISH, Progress(), threading.Event())
    assert engine.warm._entries["tiny.en"].value is model


def test_suppress_numerals(engine: FasterWhisperEngine, speech_dir: Path) -> None:
    audio = speak("It costs twenty five dollars and ten cents.", speech_dir / "money.wav")
    settings = {**ENGLISH, "asr_settings": {"suppress_numerals": True}}
    transcript = engine.transcribe(audio, settings, Progress(), threading.Event())
    assert transcript.text.strip()
    assert not any(character.isdigit() for character in transcript.text), transcript.text


def test_numeral_tokens_are_digits_and_currency(engine: FasterWhisperEngine, sentence_wav: Path):
    engine.transcribe(sentence_wav, ENGLISH, Progress(), threading.Event())
    model = engine.warm._entries["tiny.en"].value
    tokens = numeral_tokens(model)
    decoded = {model.hf_tokenizer.decode([token]) for token in tokens}
    assert {" 1", "5", "%"} <= decoded | {text.strip() for text in decoded}
    assert " the" not in decoded


def test_abort_between_segments(engine: FasterWhisperEngine, speech_dir: Path) -> None:
    audio = long_speech(speech_dir / "long.wav", 60)
    cancel = threading.Event()
    progress = Progress(cancel)
    with pytest.raises(EngineCancelled):
        engine.transcribe(audio, ENGLISH, progress, cancel)
    assert max(percent for stage, percent in progress.reports if stage == "transcribing") < 100


def test_cancelled_before_start(engine: FasterWhisperEngine, sentence_wav: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(EngineCancelled):
        engine.transcribe(sentence_wav, ENGLISH, Progress(), cancel)


def test_missing_model_offline_is_a_clear_error(engine: FasterWhisperEngine, sentence_wav: Path):
    with pytest.raises(EngineError, match=r"Model 'small' is not on this runner.*runner\.offline"):
        engine.transcribe(sentence_wav, {"model": "small"}, Progress(), threading.Event())


def test_failed_download_is_a_clear_error(
    tmp_path: Path, tiny_model: Path, sentence_wav: Path
) -> None:
    # Downloads are allowed, but HF_HUB_OFFLINE (set for every engine test) keeps the hub
    # library from the network, as a machine without a route to the hub would.
    engine = make_engine(tmp_path, tiny_model, offline=False)
    with pytest.raises(EngineError, match="Model 'base' could not be downloaded"):
        engine.transcribe(sentence_wav, {"model": "base"}, Progress(), threading.Event())
    assert not (tmp_path / "cache" / "base" / "model.bin").exists()


def test_corrupt_model_file_is_a_clear_error(
    tmp_path: Path, tiny_model: Path, sentence_wav: Path
) -> None:
    broken = tmp_path / "models" / "tiny.en"
    shutil.copytree(tiny_model, broken)
    (broken / "model.bin").write_bytes(b"\x00not a model\x00" * 1000)
    engine = FasterWhisperEngine(
        EngineConfig(sources=ModelSources(models_dir=tmp_path / "models", offline=True))
    )
    with pytest.raises(EngineError, match=r"Model 'tiny.en' at .* could not be loaded.*damaged"):
        engine.transcribe(sentence_wav, ENGLISH, Progress(), threading.Event())
    assert engine.warm.keys() == []


def test_truncated_model_file_is_a_clear_error(
    tmp_path: Path, tiny_model: Path, sentence_wav: Path
) -> None:
    broken = tmp_path / "models" / "tiny.en"
    shutil.copytree(tiny_model, broken)
    data = (tiny_model / "model.bin").read_bytes()
    (broken / "model.bin").write_bytes(data[: len(data) // 3])
    engine = FasterWhisperEngine(
        EngineConfig(sources=ModelSources(models_dir=tmp_path / "models", offline=True))
    )
    with pytest.raises(EngineError, match=r"could not be loaded"):
        engine.transcribe(sentence_wav, ENGLISH, Progress(), threading.Event())


def test_unreadable_recording_is_a_clear_error(engine: FasterWhisperEngine, tmp_path: Path):
    text = tmp_path / "notes.mp3"
    text.write_text("not audio at all\n" * 50)
    with pytest.raises(EngineError, match="The recording could not be decoded"):
        engine.transcribe(text, ENGLISH, Progress(), threading.Event())


def test_diarization_is_refused(engine: FasterWhisperEngine, sentence_wav: Path) -> None:
    settings = {**ENGLISH, "diarization": {"min_speakers": 1}}
    with pytest.raises(EngineError, match="diarization is not available"):
        engine.transcribe(sentence_wav, settings, Progress(), threading.Event())


def test_english_only_model_refuses_translation(
    engine: FasterWhisperEngine, sentence_wav: Path
) -> None:
    settings = {"model": "tiny.en", "task": "translate", "language": "de", "alignment": None}
    with pytest.raises(EngineError, match="English-only model 'tiny.en' cannot translate"):
        engine.transcribe(sentence_wav, settings, Progress(), threading.Event())


def test_malformed_setting_names_the_field(engine: FasterWhisperEngine, sentence_wav: Path):
    settings = {**ENGLISH, "asr_settings": {"beam_size": 0}}
    with pytest.raises(EngineError, match="'asr_settings.beam_size' is not valid"):
        engine.transcribe(sentence_wav, settings, Progress(), threading.Event())


def test_capabilities(tmp_path: Path, tiny_model: Path) -> None:
    engine = make_engine(tmp_path, tiny_model)
    capabilities = engine.capabilities()
    assert capabilities.engine == "faster-whisper"
    assert capabilities.models == ["tiny.en"]
    assert capabilities.downloadable is False
    assert set(capabilities.features) == {"translate", "vad", "alignment"}
    online = make_engine(tmp_path, tiny_model, offline=False)
    assert online.capabilities().downloadable is True


def test_registry_factory_reads_runner_settings(tmp_path: Path, tiny_model: Path) -> None:
    engine = create(
        {
            "model_paths": {"tiny.en": str(tiny_model)},
            "offline": True,
            "device": "cpu",
            "compute_type": "int8",
            "cpu_threads": 2,
            "batch_size": 3,
            "warm_models_memory_mb": 512,
            "model_idle_unload_minutes": 5,
            "models_dir": str(tmp_path / "models"),
            "model_cache_dir": str(tmp_path / "cache"),
        }
    )
    config = engine.config
    assert config.sources.model_paths == {"tiny.en": tiny_model}
    assert (config.device, config.compute_type, config.cpu_threads, config.batch_size) == (
        "cpu",
        "int8",
        2,
        3,
    )
    assert config.warm_memory_bytes == 512 * 1024**2
    assert config.idle_unload_seconds == 300
    assert engine.capabilities().models == ["tiny.en"]


def test_preloaded_model_is_warm_before_the_first_job(tmp_path: Path, tiny_model: Path):
    engine = make_engine(tmp_path, tiny_model, preload_models=("tiny.en",))
    try:
        assert engine.warm.keys() == ["tiny.en"]
    finally:
        engine.close()
    assert engine.warm.keys() == []


def test_every_supported_setting_reaches_faster_whisper() -> None:
    settings = {
        "model": "small",
        "task": "translate",
        "language": "de",
        "alignment": None,
        "vad_settings": {"vad_onset": 0.6, "vad_offset": 0.3, "chunk_size": 20},
        "asr_settings": {
            "beam_size": 3,
            "patience": 1.5,
            "length_penalty": 0.8,
            "temperature": 0.2,
            "temperature_increment_on_fallback": 0.4,
            "compression_ratio_threshold": 2.0,
            "log_prob_threshold": -0.5,
            "no_speech_threshold": 0.7,
            "initial_prompt": "Glossary: Project W.",
            "suppress_tokens": [-1, 50],
        },
    }
    arguments = decode_arguments(read_job_options(settings), [-1, 50, 7])
    assert arguments == {
        "language": "de",
        "task": "translate",
        "beam_size": 3,
        "patience": 1.5,
        "length_penalty": 0.8,
        "temperature": [0.2, 0.6, 1.0],
        "compression_ratio_threshold": 2.0,
        "log_prob_threshold": -0.5,
        "no_speech_threshold": 0.7,
        "initial_prompt": "Glossary: Project W.",
        "suppress_tokens": [-1, 7, 50],
        "word_timestamps": False,
        "condition_on_previous_text": False,
        "vad_filter": True,
        "vad_parameters": {"threshold": 0.6, "neg_threshold": 0.3, "max_speech_duration_s": 20.0},
    }


def test_vad_can_be_turned_off() -> None:
    arguments = decode_arguments(read_job_options({"vad_settings": None}), [-1])
    assert arguments["vad_filter"] is False
    assert "vad_parameters" not in arguments


def test_video_without_audio_is_a_clear_error(engine: FasterWhisperEngine, tmp_path: Path):
    video = MediaFactory(tmp_path).path("video_without_audio")
    with pytest.raises(EngineError, match="The recording has no audio track"):
        engine.transcribe(video, ENGLISH, Progress(), threading.Event())


def test_silence_gives_an_empty_transcript(engine: FasterWhisperEngine, tmp_path: Path):
    silence = MediaFactory(tmp_path).silence(3)
    transcript = engine.transcribe(silence, ENGLISH, Progress(), threading.Event())
    assert transcript.segments == []
    assert transcript.duration == pytest.approx(3, abs=0.05)


def test_video_soundtrack_is_transcribed(engine: FasterWhisperEngine, tmp_path: Path) -> None:
    video = MediaFactory(tmp_path).speech(SENTENCE, "video")
    transcript = engine.transcribe(video, ENGLISH, Progress(), threading.Event())
    assert wer(SENTENCE, transcript.text) <= 0.25, transcript.text
