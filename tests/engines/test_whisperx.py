"""The WhisperX engine, for real on the CPU with the ``tiny.en`` model and its bundled VAD.

What stands in for what (neither can be downloaded on the test machines):

- the wav2vec2 alignment model from the model hub → a small, randomly initialised wav2vec2 CTC
  model with an English character vocabulary, built here. WhisperX's real ``align`` runs with
  it, so the code path from transcription through alignment to the canonical transcript is the
  real one; the word timings it yields are meaningless except that they lie inside the audio.
- NLTK's punkt_tab sentence data (WhisperX's alignment downloads it at run time) → empty
  punkt parameters in the engine's model cache, where an offline runner looks for it: sentences
  are then split at full stops only.
- the gated pyannote diarization pipeline → a callable returning fixed speaker turns, in the
  DataFrame shape WhisperX's DiarizationPipeline returns; WhisperX's real
  ``assign_word_speakers`` then labels words and segments.

The loaders that reach the hub for those models are tested up to that boundary: with downloads
off they fail at once with a clear message.

This module needs the ``whisperx`` extra (torch and friends, several GB); without it the module
is skipped, and says so.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "whisperx", reason="the whisperx extra is not installed (pip install 'projectw[whisperx]')"
)

from projectw.runner.engines.base import EngineCancelled, EngineError
from projectw.runner.engines.whisperx import WhisperXEngine, create
from projectw.runner.models import EngineConfig, ModelSources
from tests.engines.speech import SENTENCE, duration, long_speech, wer

pytestmark = pytest.mark.slow

ENGLISH = {"model": "tiny.en", "language": "en"}
CHARACTERS = "abcdefghijklmnopqrstuvwxyz'"


class Progress:
    def __init__(self, cancel: threading.Event | None = None) -> None:
        self.reports: list[tuple[str, float]] = []
        self.cancel = cancel

    def __call__(self, stage: str, percent: float) -> None:
        self.reports.append((stage, percent))
        if self.cancel is not None and stage == "transcribing":
            self.cancel.set()

    def stages(self) -> list[str]:
        return list(dict.fromkeys(stage for stage, _ in self.reports))


def stand_in_alignment(language: str) -> tuple[Any, dict[str, Any]]:
    """A random wav2vec2 CTC model standing in for the hub's alignment model (see above)."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    vocabulary = ["<pad>", "|", *CHARACTERS]
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        vocab_size=len(vocabulary),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32,) * 7,
        num_conv_pos_embeddings=16,
    )
    model = Wav2Vec2ForCTC(config).eval()
    dictionary = {character: index for index, character in enumerate(vocabulary)}
    return model, {"language": language, "dictionary": dictionary, "type": "huggingface"}


class StandInDiarizer:
    """Fixed speaker turns standing in for the pyannote pipeline (see above)."""

    def __init__(self, split: float) -> None:
        self.split = split
        self.calls: list[dict[str, Any]] = []

    def __call__(self, audio: Any, **kwargs: Any) -> Any:
        import pandas as pd

        self.calls.append(kwargs)
        callback = kwargs.get("progress_callback")
        if callback is not None:
            callback(50.0)
            callback(100.0)
        end = len(audio) / 16000
        return pd.DataFrame(
            [
                {"start": 0.0, "end": self.split, "speaker": "SPEAKER_00"},
                {"start": self.split, "end": end, "speaker": "SPEAKER_01"},
            ]
        )


def stand_in_sentence_data(cache: Path) -> None:
    """Empty punkt parameters standing in for NLTK's punkt_tab data (see above)."""
    folder = cache / "nltk_data" / "tokenizers" / "punkt_tab" / "english"
    folder.mkdir(parents=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (folder / name).write_text("")


def make_engine(tmp_path: Path, tiny_model: Path, **kwargs: Any) -> WhisperXEngine:
    if kwargs.pop("sentence_data", False):
        stand_in_sentence_data(tmp_path / "cache")
    sources = ModelSources(
        model_paths={"tiny.en": tiny_model},
        cache_dir=tmp_path / "cache",
        offline=kwargs.pop("offline", True),
        hf_token=kwargs.pop("hf_token", None),
    )
    return WhisperXEngine(EngineConfig(sources=sources), **kwargs)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Any:
    split = StandInDiarizer(split=3.0)
    engine = make_engine(
        tmp_path_factory.mktemp("whisperx"),
        tiny_model,
        load_alignment=stand_in_alignment,
        load_diarizer=lambda: split,
        sentence_data=True,
    )
    engine.stand_in_diarizer = split  # type: ignore[attr-defined]
    yield engine
    engine.close()


def test_transcribes_on_the_cpu(engine: WhisperXEngine, sentence_wav: Path) -> None:
    progress = Progress()
    settings = {**ENGLISH, "alignment": None}
    transcript = engine.transcribe(sentence_wav, settings, progress, threading.Event())

    assert wer(SENTENCE, transcript.text) <= 0.25, transcript.text
    assert transcript.language == "en"
    assert transcript.engine is not None and transcript.engine.name == "whisperx"
    length = duration(sentence_wav)
    for segment in transcript.segments:
        assert 0 <= segment.start <= segment.end <= length + 0.05
    assert progress.stages() == ["loading_model", "transcribing"]
    assert progress.reports[-1] == ("transcribing", 100.0)


def test_alignment_path_gives_timed_words(engine: WhisperXEngine, sentence_wav: Path) -> None:
    progress = Progress()
    transcript = engine.transcribe(sentence_wav, ENGLISH, progress, threading.Event())

    assert wer(SENTENCE, transcript.text) <= 0.25, transcript.text
    words = [word for segment in transcript.segments for word in segment.words]
    assert len(words) >= 10
    timed = [word for word in words if word.start is not None and word.end is not None]
    assert timed
    length = duration(sentence_wav)
    for word in timed:
        assert word.start is not None and word.end is not None
        assert 0 <= word.start <= word.end <= length
        assert word.probability is None or 0 <= word.probability <= 1
    assert "aligning" in progress.stages()


def test_diarization_path_labels_speakers(engine: WhisperXEngine, sentence_wav: Path) -> None:
    settings = {**ENGLISH, "diarization": {"min_speakers": 1, "max_speakers": 2}}
    progress = Progress()
    transcript = engine.transcribe(sentence_wav, settings, progress, threading.Event())

    speakers = {word.speaker for segment in transcript.segments for word in segment.words}
    assert speakers <= {"SPEAKER_00", "SPEAKER_01", None}
    assert {"SPEAKER_00", "SPEAKER_01"} & speakers
    assert all(segment.speaker is not None for segment in transcript.segments)
    calls = engine.stand_in_diarizer.calls  # type: ignore[attr-defined]
    assert (calls[-1]["min_speakers"], calls[-1]["max_speakers"]) == (1, 2)
    assert progress.stages()[-1] == "diarizing"
    assert "diarization" in engine.capabilities().features


def test_abort_from_a_progress_callback(engine: WhisperXEngine, speech_dir: Path) -> None:
    audio = long_speech(speech_dir / "long-whisperx.wav", 90)
    cancel = threading.Event()
    progress = Progress(cancel)
    with pytest.raises(EngineCancelled):
        engine.transcribe(audio, {**ENGLISH, "alignment": None}, progress, cancel)
    assert ("transcribing", 100.0) not in progress.reports


def test_models_stay_warm(engine: WhisperXEngine, sentence_wav: Path) -> None:
    settings = {**ENGLISH, "alignment": None}
    engine.transcribe(sentence_wav, settings, Progress(), threading.Event())
    whisper = engine.warm._entries["tiny.en"].value
    vad = engine.warm._entries["vad:pyannote"].value
    engine.transcribe(sentence_wav, settings, Progress(), threading.Event())
    assert engine.warm._entries["tiny.en"].value is whisper
    assert engine.warm._entries["vad:pyannote"].value is vad
    assert engine.capabilities().models == ["tiny.en"]


def test_alignment_model_boundary_offline(
    tmp_path: Path, tiny_model: Path, sentence_wav: Path
) -> None:
    engine = make_engine(tmp_path, tiny_model, sentence_data=True)
    try:
        with pytest.raises(EngineError, match=r"alignment model for language 'en' is not on this"):
            engine.transcribe(sentence_wav, ENGLISH, Progress(), threading.Event())
        # A language whose alignment model lives on the Hugging Face hub: local files only.
        with pytest.raises(EngineError, match="alignment model for language 'nl' is not available"):
            engine._hub_alignment("nl")
    finally:
        engine.close()


def test_sentence_data_boundary_offline(
    tmp_path: Path, tiny_model: Path, sentence_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nltk

    # The module's engine (still open) gave NLTK its stand-in data; this engine has none.
    monkeypatch.setattr(nltk.data, "path", [p for p in nltk.data.path if "cache/nltk" not in p])
    engine = make_engine(tmp_path, tiny_model, load_alignment=stand_in_alignment)
    try:
        with pytest.raises(EngineError, match=r"NLTK's sentence data \(punkt_tab\)"):
            engine.transcribe(sentence_wav, ENGLISH, Progress(), threading.Event())
    finally:
        engine.close()


def test_diarization_needs_a_token(tmp_path: Path, tiny_model: Path, sentence_wav: Path):
    engine = make_engine(tmp_path, tiny_model)
    try:
        assert "diarization" not in engine.capabilities().features
        settings = {**ENGLISH, "alignment": None, "diarization": {}}
        with pytest.raises(EngineError, match=r"needs a Hugging Face token \(runner\.hf_token\)"):
            engine.transcribe(sentence_wav, settings, Progress(), threading.Event())
    finally:
        engine.close()


def test_diarization_model_boundary(tmp_path: Path, tiny_model: Path) -> None:
    engine = make_engine(tmp_path, tiny_model, hf_token="hf_not_a_real_token")
    try:
        assert "diarization" in engine.capabilities().features
        with pytest.raises(EngineError, match="speaker diarization model could not be loaded"):
            engine._hub_diarizer()
    finally:
        engine.close()


def test_preloaded_models_are_warm(tiny_model: Path) -> None:
    engine = WhisperXEngine(
        EngineConfig(
            sources=ModelSources(model_paths={"tiny.en": tiny_model}, offline=True),
            preload_models=("tiny.en",),
        )
    )
    try:
        assert set(engine.warm.keys()) == {"tiny.en", "vad:pyannote"}
    finally:
        engine.close()


def test_registry_factory(tiny_model: Path) -> None:
    engine = create({"model_paths": {"tiny.en": str(tiny_model)}, "offline": True, "batch_size": 4})
    try:
        capabilities = engine.capabilities()
        assert (capabilities.engine, capabilities.models) == ("whisperx", ["tiny.en"])
        assert capabilities.downloadable is False
    finally:
        engine.close()
