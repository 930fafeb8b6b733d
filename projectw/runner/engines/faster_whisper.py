"""The faster-whisper engine (CTranslate2, CPU and CUDA): the appliance's default engine.

Every job setting faster-whisper supports is honoured: task, language or detection, beam size,
patience, length penalty, temperature with fallback, the three thresholds, initial prompt,
suppressed tokens and numerals, and voice activity detection (Silero, bundled with
faster-whisper) with onset, offset and chunk size. ``alignment`` is served by faster-whisper's
own word timestamps (cross-attention timing, no wav2vec2 model); the ``whisperx`` engine does
forced alignment instead. Diarization is not available on this engine.

With ``runner.batch_size`` above 1, the batched pipeline decodes several speech chunks at once
(it needs voice activity detection; a job with VAD turned off is decoded sequentially).
Loaded models stay warm between jobs (see ``projectw.runner.models``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from projectw.runner.engines.base import (
    Capabilities,
    EngineCancelled,
    EngineError,
    ProgressFn,
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

NAME = "faster-whisper"
SAMPLE_RATE = 16000
FEATURES = ["translate", "vad", "alignment"]
_NUMERAL_CHARACTERS = frozenset("0123456789%$£€¥")


def create(options: Mapping[str, Any]) -> FasterWhisperEngine:
    """The registry's factory, called in the engine process.

    ``options`` are the runner settings as a mapping. The process lowers its own priority
    (``engine_niceness``) so that a server on the same machine stays responsive.
    """
    lower_priority(int(options.get("engine_niceness", 0)))
    return FasterWhisperEngine(EngineConfig.from_options(options))


def load_audio(audio: Path) -> Any:
    """The recording as 16 kHz mono float samples; EngineError if it cannot be decoded.

    Decoded here rather than with faster-whisper's ``decode_audio``, which runs a full garbage
    collection per file: tens of milliseconds before every job starts decoding.
    """
    import av
    import numpy as np

    chunks: list[Any] = []
    try:
        with av.open(str(audio), metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            frames = container.decode(stream)
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except av.error.InvalidDataError:
                    continue  # a damaged frame: skip it, as players do
                chunks.extend(piece.to_ndarray() for piece in resampler.resample(frame))
            chunks.extend(piece.to_ndarray() for piece in resampler.resample(None))
    except IndexError:
        raise EngineError("The recording has no audio track.") from None
    except Exception as exc:
        raise EngineError(f"The recording could not be decoded ({_first_line(exc)}).") from None
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    samples = np.concatenate(chunks, axis=1).reshape(-1)
    return samples.astype(np.float32) / 32768.0


def load_whisper_model(model: ResolvedModel, config: EngineConfig) -> Any:
    """A faster-whisper model from ``model``'s folder; EngineError if its files are damaged."""
    from faster_whisper import WhisperModel

    device, compute_type = choose_device(config.device, config.compute_type)
    try:
        return WhisperModel(
            str(model.path),
            device=device,
            compute_type=compute_type,
            cpu_threads=config.threads(),
            local_files_only=True,
        )
    except Exception as exc:
        raise EngineError(
            f"Model '{model.name}' at {model.path} could not be loaded; its files may be "
            f"damaged or incomplete ({_first_line(exc)})."
        ) from None


def numeral_tokens(model: Any) -> list[int]:
    """Token ids whose text contains a digit or a currency/percent sign."""
    tokenizer = model.hf_tokenizer
    end_of_text = tokenizer.token_to_id("<|endoftext|>")
    return [
        token
        for token in range(end_of_text)
        if _NUMERAL_CHARACTERS & set(tokenizer.decode([token]))
    ]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def check_task(options: JobOptions, multilingual: bool) -> None:
    """Refuse what an English-only model cannot do."""
    if multilingual:
        return
    if options.task == "translate":
        raise EngineError(f"The English-only model '{options.model}' cannot translate.")
    if options.language not in (None, "en"):
        raise EngineError(
            f"The English-only model '{options.model}' cannot transcribe language "
            f"'{options.language}'."
        )


def decode_arguments(options: JobOptions, suppress: Iterable[int]) -> dict[str, Any]:
    """Keyword arguments of faster-whisper's ``transcribe`` for this job."""
    decode = options.decode
    arguments: dict[str, Any] = {
        "language": options.language,
        "task": options.task,
        "beam_size": decode.beam_size,
        "patience": decode.patience,
        "length_penalty": decode.length_penalty,
        "temperature": list(decode.temperatures),
        "compression_ratio_threshold": decode.compression_ratio_threshold,
        "log_prob_threshold": decode.log_prob_threshold,
        "no_speech_threshold": decode.no_speech_threshold,
        "initial_prompt": decode.initial_prompt,
        "suppress_tokens": sorted(set(suppress)),
        "word_timestamps": options.alignment,
        # Project-W 0.6 decodes every chunk on its own; conditioning on earlier text makes
        # one misheard chunk derail the following ones.
        "condition_on_previous_text": False,
        "vad_filter": options.vad is not None,
    }
    if options.vad is not None:
        arguments["vad_parameters"] = {
            "threshold": options.vad.onset,
            "neg_threshold": options.vad.offset,
            "max_speech_duration_s": float(options.vad.chunk_size),
        }
    return arguments


def to_segment(raw: Any) -> Segment:
    """A faster-whisper segment as a canonical segment."""
    words = [
        Word(
            word=word.word.strip(),
            start=max(0.0, float(word.start)),
            end=max(0.0, float(word.end)),
            probability=min(1.0, max(0.0, float(word.probability))),
        )
        for word in raw.words or ()
        if word.word.strip()
    ]
    start = max(0.0, float(raw.start))
    return Segment(start=start, end=max(start, float(raw.end)), text=raw.text.strip(), words=words)


class FasterWhisperEngine:
    """Transcribes with faster-whisper, keeping models loaded between jobs."""

    name = NAME

    def __init__(self, config: EngineConfig) -> None:
        import faster_whisper  # noqa: F401  (its import takes seconds: pay it at start-up)

        self.config = config
        self.store = ModelStore(config.sources)
        self.warm: WarmModels[Any] = WarmModels(
            config.warm_memory_bytes, config.idle_unload_seconds
        )
        self._numerals: dict[str, list[int]] = {}
        self.store.prepare(self.config.preload_models, self._warm_up)

    def _warm_up(self, model: ResolvedModel) -> None:
        with self.warm.use(model.name, model.size_bytes(), lambda: self._load(model)):
            pass

    def capabilities(self) -> Capabilities:
        models = sorted(set(self.store.available()) | set(self.warm.keys()))
        return Capabilities(
            engine=NAME,
            models=models,
            downloadable=not self.config.sources.offline,
            features=list(FEATURES),
        )

    def _load(self, model: ResolvedModel) -> Any:
        return load_whisper_model(model, self.config)

    def transcribe(
        self,
        audio: Path,
        settings: Mapping[str, Any],
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> Transcript:
        options = read_job_options(settings)
        if options.diarization:
            raise EngineError(
                "Speaker diarization is not available on the faster-whisper engine; "
                "use a runner with the whisperx engine."
            )
        _check(cancelled)
        progress("loading_model", 0.0)
        resolved = self.store.resolve(options.model)
        samples = load_audio(audio)
        duration = len(samples) / SAMPLE_RATE
        _check(cancelled)
        with self.warm.use(options.model, resolved.size_bytes(), lambda: self._load(resolved)) as (
            model
        ):
            check_task(options, model.model.is_multilingual)
            segments, language = self._decode(
                model, samples, duration, options, progress, cancelled
            )
        progress("transcribing", 100.0)
        return Transcript(
            language=language,
            duration=round(duration, 3),
            segments=segments,
            engine=EngineInfo(name=NAME, model=options.model, version=_version()),
        )

    def _decode(
        self,
        model: Any,
        samples: Any,
        duration: float,
        options: JobOptions,
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> tuple[list[Segment], str | None]:
        """The job's segments and the (given or detected) language."""
        suppress = list(options.decode.suppress_tokens)
        if options.decode.suppress_numerals:
            suppress += self._numeral_tokens(options.model, model)
        arguments = decode_arguments(options, suppress)
        batch_size = self.config.batch_size
        log.info("decoding started", extra={"model": options.model})
        started = time.monotonic()
        progress("transcribing", 0.0)
        if batch_size > 1 and options.vad is not None:
            from faster_whisper import BatchedInferencePipeline

            arguments.pop("vad_parameters", None)
            pipeline = BatchedInferencePipeline(model)
            raw_segments, info = pipeline.transcribe(
                samples,
                batch_size=batch_size,
                chunk_length=options.vad.chunk_size,
                **arguments,
            )
        else:
            raw_segments, info = model.transcribe(samples, **arguments)
        segments: list[Segment] = []
        # faster-whisper decodes lazily: each step of this loop decodes the next segment, so
        # an abort is noticed between segments (the host kills the process mid-segment).
        for raw in raw_segments:
            _check(cancelled)
            segment = to_segment(raw)
            if segment.text or segment.words:
                segments.append(segment)
            if duration > 0:
                progress("transcribing", min(100.0, 100.0 * segment.end / duration))
        _check(cancelled)
        log.info(
            "decoding finished",
            extra={"model": options.model, "seconds": round(time.monotonic() - started, 3)},
        )
        return segments, info.language

    def _numeral_tokens(self, name: str, model: Any) -> list[int]:
        if name not in self._numerals:
            self._numerals[name] = numeral_tokens(model)
        return self._numerals[name]

    def close(self) -> None:
        self.warm.close()


def _check(cancelled: threading.Event) -> None:
    if cancelled.is_set():
        raise EngineCancelled()


def _version() -> str:
    import faster_whisper

    return str(faster_whisper.__version__)
