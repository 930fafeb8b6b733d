"""The WhisperX engine (extra ``projectw[whisperx]``): batched transcription, forced alignment
(a wav2vec2 model per language) and speaker diarization (pyannote).

WhisperX and torch are imported only when this engine is chosen. Progress comes from
WhisperX's ``progress_callback`` arguments; nothing global (such as ``print``) is patched.
The Whisper model, the bundled pyannote VAD model, alignment models and the diarization
pipeline all stay warm between jobs in one memory budget.

Diarization needs a Hugging Face token (``runner.hf_token``) with access to the gated pyannote
models; without one it is not offered. A detected language without an alignment model gets
its transcript without word timings (the job is not failed for it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from projectw.runner.engines.base import Capabilities, EngineCancelled, EngineError, ProgressFn
from projectw.runner.engines.faster_whisper import (
    SAMPLE_RATE,
    check_task,
    load_audio,
    numeral_tokens,
)
from projectw.runner.engines.job_options import JobOptions, read_job_options
from projectw.runner.models import (
    EngineConfig,
    ModelStore,
    ResolvedModel,
    WarmModels,
    choose_device,
    lower_priority,
)
from projectw.transcripts.model import EngineInfo, Segment, Transcript, Word

log = logging.getLogger(__name__)

NAME = "whisperx"
# WhisperX always decodes speech chunks in batches: this many when runner.batch_size is 1.
DEFAULT_BATCH_SIZE = 8
# Memory estimates for models whose size is not known before loading them.
_VAD_BYTES = 20 * 1024**2
_ALIGN_BYTES = 400 * 1024**2
_DIARIZE_BYTES = 300 * 1024**2

AlignmentLoader = Callable[[str], tuple[Any, dict[str, Any]]]
"""Language code → (wav2vec2 model, WhisperX alignment metadata)."""
DiarizerLoader = Callable[[], Callable[..., Any]]
"""() → a callable like WhisperX's DiarizationPipeline: (audio, min_speakers=, max_speakers=,
progress_callback=) → a DataFrame of speaker turns."""


def create(options: Mapping[str, Any]) -> WhisperXEngine:
    """The registry's factory, called in the engine process.

    ``options`` are the runner settings as a mapping. The process lowers its own priority
    (``engine_niceness``) so that a server on the same machine stays responsive.
    """
    lower_priority(int(options.get("engine_niceness", 0)))
    return WhisperXEngine(EngineConfig.from_options(options))


def alignment_languages() -> frozenset[str]:
    """Languages WhisperX has a default alignment model for."""
    from whisperx import alignment

    return frozenset(alignment.DEFAULT_ALIGN_MODELS_TORCH) | frozenset(
        alignment.DEFAULT_ALIGN_MODELS_HF
    )


class WhisperXEngine:
    """Transcribes with WhisperX; aligns and diarizes when the job asks for it."""

    name = NAME

    def __init__(
        self,
        config: EngineConfig,
        *,
        load_alignment: AlignmentLoader | None = None,
        load_diarizer: DiarizerLoader | None = None,
    ) -> None:
        import whisperx  # noqa: F401  (fail at start-up, not at the first job, if missing)

        self.config = config
        self.device, self.compute_type = choose_device(config.device, config.compute_type)
        self.store = ModelStore(config.sources)
        self.warm: WarmModels[Any] = WarmModels(
            config.warm_memory_bytes, config.idle_unload_seconds, on_unload=self._free_memory
        )
        self._load_alignment = load_alignment or self._hub_alignment
        self._load_diarizer = load_diarizer
        if load_diarizer is None and config.sources.hf_token:
            self._load_diarizer = self._hub_diarizer
        self._nltk_dir = (
            config.sources.cache_dir / "nltk_data" if config.sources.cache_dir else None
        )
        if self._nltk_dir is not None:
            import nltk

            # Alignment splits sentences with NLTK's punkt_tab data; it is looked for (and
            # downloaded to) the model cache too, so an offline runner can be given it there.
            if str(self._nltk_dir) not in nltk.data.path:
                nltk.data.path.append(str(self._nltk_dir))
        self.store.prepare(config.preload_models, self._warm_up)

    def _warm_up(self, model: ResolvedModel) -> None:
        with (
            self.warm.use(model.name, model.size_bytes(), lambda: self._whisper(model)),
            self.warm.use("vad:pyannote", _VAD_BYTES, self._vad),
        ):
            pass

    def capabilities(self) -> Capabilities:
        features = ["translate", "vad", "alignment"]
        if self._load_diarizer is not None:
            features.append("diarization")
        warm = {key for key in self.warm.keys() if ":" not in key}  # noqa: SIM118
        models = sorted(set(self.store.available()) | warm)
        return Capabilities(
            engine=NAME,
            models=models,
            downloadable=not self.config.sources.offline,
            features=features,
        )

    # --- loading -------------------------------------------------------------------------

    def _whisper(self, model: ResolvedModel) -> Any:
        from whisperx.asr import WhisperModel

        try:
            return WhisperModel(
                str(model.path),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.config.threads(),
                local_files_only=True,
            )
        except Exception as exc:
            raise EngineError(
                f"Model '{model.name}' at {model.path} could not be loaded; its files may be "
                f"damaged or incomplete ({_first_line(exc)})."
            ) from None

    def _vad(self) -> Any:
        import torch
        from whisperx.vads import Pyannote

        # The segmentation model ships inside the whisperx package: no download.
        return Pyannote(torch.device(self.device), token=None, vad_onset=0.5)

    def _hub_alignment(self, language: str) -> tuple[Any, dict[str, Any]]:
        import whisperx

        cache = self.config.sources.cache_dir
        model_dir = cache / "alignment" if cache else None
        if self.config.sources.offline and not _torchaudio_checkpoint_present(language, model_dir):
            raise EngineError(
                f"The alignment model for language '{language}' is not on this runner and "
                "downloads are turned off (runner.offline); run the job without alignment."
            )
        try:
            model, metadata = whisperx.load_align_model(
                language_code=language,
                device=self.device,
                model_dir=str(model_dir) if model_dir else None,
                model_cache_only=self.config.sources.offline,
            )
        except Exception as exc:
            raise EngineError(
                f"The alignment model for language '{language}' is not available "
                f"({_first_line(exc)}); run the job without alignment or allow downloads."
            ) from None
        return model, metadata

    def _hub_diarizer(self) -> Callable[..., Any]:
        from whisperx.diarize import DiarizationPipeline

        cache = self.config.sources.cache_dir
        try:
            pipeline: Callable[..., Any] = DiarizationPipeline(
                token=self.config.sources.hf_token,
                device=self.device,
                cache_dir=str(cache / "diarization") if cache else None,
            )
        except Exception as exc:
            raise EngineError(
                f"The speaker diarization model could not be loaded ({_first_line(exc)}); "
                "check runner.hf_token and that it may use the pyannote models."
            ) from None
        return pipeline

    def _ensure_sentence_data(self, language: str) -> None:
        """Make sure NLTK's punkt_tab data that WhisperX's alignment needs is on this runner."""
        import nltk
        from whisperx.utils import PUNKT_LANGUAGES

        resource = f"tokenizers/punkt_tab/{PUNKT_LANGUAGES.get(language, 'english')}/"
        try:
            nltk.data.find(resource)
            return
        except LookupError:
            pass
        if self.config.sources.offline or self._nltk_dir is None:
            raise EngineError(
                "Alignment needs NLTK's sentence data (punkt_tab), which is not on this runner "
                f"and downloads are turned off; put it under {self._nltk_dir or 'NLTK_DATA'} "
                "or run the job without alignment."
            )
        if not nltk.download("punkt_tab", download_dir=str(self._nltk_dir), quiet=True):
            raise EngineError("NLTK's sentence data (punkt_tab) could not be downloaded.")

    def _free_memory(self, key: str) -> None:
        if self.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    # --- transcription -------------------------------------------------------------------

    def transcribe(
        self,
        audio: Path,
        settings: Mapping[str, Any],
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> Transcript:
        options = read_job_options(settings)
        if options.diarization and self._load_diarizer is None:
            raise EngineError(
                "Speaker diarization is not available on this runner: it needs a Hugging Face "
                "token (runner.hf_token)."
            )
        _check(cancelled)
        progress("loading_model", 0.0)
        resolved = self.store.resolve(options.model)
        samples = load_audio(audio)
        duration = len(samples) / SAMPLE_RATE
        _check(cancelled)
        result = self._transcribe(resolved, samples, options, progress, cancelled)
        language = result.get("language") or options.language
        if options.alignment and result["segments"]:
            result = self._align(result, samples, language, options, progress, cancelled)
        if options.diarization and result["segments"]:
            result = self._diarize(result, samples, options, progress, cancelled)
        _check(cancelled)
        return Transcript(
            language=language,
            duration=round(duration, 3),
            segments=[to_segment(raw, duration) for raw in result["segments"]],
            engine=EngineInfo(name=NAME, model=options.model, version=_version()),
        )

    def _transcribe(
        self,
        resolved: ResolvedModel,
        samples: Any,
        options: JobOptions,
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> dict[str, Any]:
        from whisperx.asr import FasterWhisperPipeline

        size = resolved.size_bytes()
        with (
            self.warm.use(options.model, size, lambda: self._whisper(resolved)) as model,
            self.warm.use("vad:pyannote", _VAD_BYTES, self._vad) as vad,
        ):
            check_task(options, model.model.is_multilingual)
            language = options.language or (None if model.model.is_multilingual else "en")
            vad_options = options.vad
            pipeline = FasterWhisperPipeline(
                model=model,
                vad=vad,
                vad_params={
                    "vad_onset": vad_options.onset if vad_options else 0.5,
                    "vad_offset": vad_options.offset if vad_options else 0.363,
                    "chunk_size": vad_options.chunk_size if vad_options else 30,
                },
                options=transcription_options(options, model),
                tokenizer=_tokenizer(model, options, language),
                language=language,
            )
            log.info("decoding started", extra={"model": options.model})
            progress("transcribing", 0.0)
            batch_size = self.config.batch_size
            if batch_size == 1:
                batch_size = DEFAULT_BATCH_SIZE
            result: dict[str, Any] = pipeline.transcribe(
                samples,
                batch_size=batch_size,
                language=language,
                task=options.task,
                chunk_size=vad_options.chunk_size if vad_options else 30,
                progress_callback=_reporter("transcribing", progress, cancelled),
            )
        return result

    def _align(
        self,
        result: dict[str, Any],
        samples: Any,
        language: str | None,
        options: JobOptions,
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> dict[str, Any]:
        import whisperx

        if language is None or language not in alignment_languages():
            log.warning("no alignment model for this language", extra={"language": language})
            return result
        progress("aligning", 0.0)
        self._ensure_sentence_data(language)
        key = f"align:{language}"
        with self.warm.use(key, _ALIGN_BYTES, lambda: self._load_alignment(language)) as loaded:
            model, metadata = loaded
            aligned: dict[str, Any] = whisperx.align(
                result["segments"],
                model,
                metadata,
                samples,
                self.device,
                interpolate_method=options.interpolate_method,
                return_char_alignments=options.return_char_alignments,
                progress_callback=_reporter("aligning", progress, cancelled),
            )
        aligned["language"] = language
        return aligned

    def _diarize(
        self,
        result: dict[str, Any],
        samples: Any,
        options: JobOptions,
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> dict[str, Any]:
        import whisperx

        assert self._load_diarizer is not None
        progress("diarizing", 0.0)
        with self.warm.use("diarize:pyannote", _DIARIZE_BYTES, self._load_diarizer) as diarizer:
            turns = diarizer(
                samples,
                min_speakers=options.min_speakers,
                max_speakers=options.max_speakers,
                progress_callback=_reporter("diarizing", progress, cancelled),
            )
        _check(cancelled)
        assigned: dict[str, Any] = whisperx.assign_word_speakers(turns, result)
        return assigned

    def close(self) -> None:
        self.warm.close()
        if self._nltk_dir is not None:
            import nltk

            if str(self._nltk_dir) in nltk.data.path:
                nltk.data.path.remove(str(self._nltk_dir))


def transcription_options(options: JobOptions, model: Any) -> Any:
    """faster-whisper's TranscriptionOptions for a WhisperX batched pipeline."""
    from faster_whisper.transcribe import TranscriptionOptions

    decode = options.decode
    suppress = set(decode.suppress_tokens)
    if decode.suppress_numerals:
        suppress |= set(numeral_tokens(model))
    return TranscriptionOptions(
        beam_size=decode.beam_size,
        best_of=5,
        patience=decode.patience,
        length_penalty=decode.length_penalty,
        repetition_penalty=1,
        no_repeat_ngram_size=0,
        log_prob_threshold=decode.log_prob_threshold,
        no_speech_threshold=decode.no_speech_threshold,
        compression_ratio_threshold=decode.compression_ratio_threshold,
        condition_on_previous_text=False,
        prompt_reset_on_temperature=0.5,
        temperatures=list(decode.temperatures),
        initial_prompt=decode.initial_prompt,
        prefix=None,
        suppress_blank=True,
        suppress_tokens=sorted(suppress),
        # WhisperX times segments by VAD chunks and words by alignment.
        without_timestamps=True,
        max_initial_timestamp=0.0,
        word_timestamps=False,
        prepend_punctuations="\"'“¿([{-",
        append_punctuations="\"'.。,，!！?？:：”)]}、",
        multilingual=model.model.is_multilingual,
        max_new_tokens=None,
        clip_timestamps=None,
        hallucination_silence_threshold=None,
        hotwords=None,
    )


def _torchaudio_checkpoint_present(language: str, model_dir: Path | None) -> bool:
    """Whether an alignment model WhisperX takes from torchaudio (not from the Hugging Face
    hub, whose ``local_files_only`` needs no help) is already in ``model_dir``.

    torchaudio would otherwise try to download it even with downloads turned off.
    """
    import torchaudio
    from whisperx import alignment

    bundle_name = alignment.DEFAULT_ALIGN_MODELS_TORCH.get(language)
    if bundle_name is None:
        return True
    file_name = Path(str(getattr(getattr(torchaudio.pipelines, bundle_name), "_path", ""))).name
    return model_dir is not None and bool(file_name) and (model_dir / file_name).is_file()


def _tokenizer(model: Any, options: JobOptions, language: str | None) -> Any:
    if language is None:
        return None  # WhisperX detects the language and makes the tokenizer itself
    from faster_whisper.tokenizer import Tokenizer

    return Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task=options.task, language=language
    )


def _reporter(
    stage: str, progress: ProgressFn, cancelled: threading.Event
) -> Callable[[float], None]:
    """A WhisperX progress callback: reports the stage's percent and stops on abort."""

    def report(percent: float) -> None:
        _check(cancelled)
        progress(stage, min(100.0, max(0.0, float(percent))))

    return report


def _seconds(value: Any, duration: float) -> float | None:
    """A time from WhisperX (None or NaN when it could not place a word), within the audio."""
    if value is None:
        return None
    number = float(value)
    if number != number:
        return None
    return min(max(0.0, number), duration) if duration > 0 else max(0.0, number)


def to_segment(raw: Mapping[str, Any], duration: float) -> Segment:
    """A WhisperX segment (transcribed, aligned and/or diarized) as a canonical segment."""
    words = []
    for word in raw.get("words") or ():
        text = str(word.get("word", "")).strip()
        if not text:
            continue
        score = word.get("score")
        words.append(
            Word(
                word=text,
                start=_seconds(word.get("start"), duration),
                end=_seconds(word.get("end"), duration),
                probability=None if score is None else min(1.0, max(0.0, float(score))),
                speaker=word.get("speaker"),
            )
        )
    start = _seconds(raw.get("start"), duration) or 0.0
    end = _seconds(raw.get("end"), duration) or start
    return Segment(
        start=start,
        end=max(start, end),
        text=str(raw.get("text", "")).strip(),
        speaker=raw.get("speaker"),
        words=words,
    )


def _check(cancelled: threading.Event) -> None:
    if cancelled.is_set():
        raise EngineCancelled()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _version() -> str:
    from importlib.metadata import version

    return version("whisperx")
