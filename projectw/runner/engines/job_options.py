"""A job's settings (Project-W 0.6 field names) read into what the Whisper engines need.

The server validates settings when a job is submitted; runners still read them defensively,
because a job may come from an older server or carry fields this runner does not know.
Unknown fields are ignored, malformed ones fail the job with a sentence naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from projectw.runner.engines.base import EngineError


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Alignment(_Lenient):
    return_char_alignments: bool = False
    interpolate_method: Literal["nearest", "linear", "ignore"] = "nearest"


class _Diarization(_Lenient):
    min_speakers: int | None = Field(None, ge=0)
    max_speakers: int | None = Field(None, ge=0)


class _Vad(_Lenient):
    vad_onset: float = Field(0.5, gt=0, lt=1)
    vad_offset: float = Field(0.363, gt=0, lt=1)
    chunk_size: int = Field(30, ge=1, le=30)


class _Asr(_Lenient):
    beam_size: int = Field(5, ge=1)
    patience: float = Field(1.0, gt=0)
    length_penalty: float = Field(1.0, ge=0, le=1)
    temperature: float = Field(0.0, ge=0, le=1)
    temperature_increment_on_fallback: float | None = Field(0.2, ge=0)
    compression_ratio_threshold: float | None = Field(2.4, ge=0)
    log_prob_threshold: float | None = -1.0
    no_speech_threshold: float | None = 0.6
    initial_prompt: str | None = None
    suppress_tokens: list[int] = Field(default_factory=lambda: [-1])
    suppress_numerals: bool = False


class _Settings(_Lenient):
    task: Literal["transcribe", "translate"] = "transcribe"
    model: str = Field("small", min_length=1)
    language: str | None = None
    alignment: _Alignment | None = Field(default_factory=_Alignment)
    diarization: _Diarization | None = None
    vad_settings: _Vad | None = Field(default_factory=_Vad)
    asr_settings: _Asr = Field(default_factory=_Asr)


@dataclass(frozen=True)
class VadOptions:
    """Voice activity detection: speech starts above ``onset``, ends below ``offset``."""

    onset: float
    offset: float
    chunk_size: int


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding options shared by both Whisper engines."""

    beam_size: int
    patience: float
    length_penalty: float
    temperatures: tuple[float, ...]
    compression_ratio_threshold: float | None
    log_prob_threshold: float | None
    no_speech_threshold: float | None
    initial_prompt: str | None
    suppress_tokens: tuple[int, ...]
    suppress_numerals: bool


@dataclass(frozen=True)
class JobOptions:
    """Everything a Whisper engine reads from one job's settings."""

    task: Literal["transcribe", "translate"]
    model: str
    language: str | None
    alignment: bool
    return_char_alignments: bool
    interpolate_method: Literal["nearest", "linear", "ignore"]
    diarization: bool
    min_speakers: int | None
    max_speakers: int | None
    vad: VadOptions | None
    decode: DecodeOptions


def temperature_schedule(start: float, increment: float | None) -> tuple[float, ...]:
    """Temperatures tried in turn when decoding fails its thresholds: start, start+inc, … ≤ 1.

    An increment of 0 or none means no fallback: only ``start`` is tried.
    """
    if not increment:
        return (start,)
    steps = int((1.0 - start) / increment + 1e-9)
    return tuple(round(start + step * increment, 6) for step in range(steps + 1))


def read_job_options(settings: Mapping[str, Any]) -> JobOptions:
    """Read a job's settings, or raise EngineError naming the first malformed field."""
    try:
        parsed = _Settings.model_validate(dict(settings))
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise EngineError(f"The job setting '{location}' is not valid: {message}.") from None
    asr = parsed.asr_settings
    alignment = parsed.alignment
    diarization = parsed.diarization
    vad = parsed.vad_settings
    return JobOptions(
        task=parsed.task,
        model=parsed.model,
        language=parsed.language or None,
        alignment=alignment is not None,
        return_char_alignments=alignment.return_char_alignments if alignment else False,
        interpolate_method=alignment.interpolate_method if alignment else "nearest",
        diarization=diarization is not None,
        min_speakers=diarization.min_speakers if diarization else None,
        max_speakers=diarization.max_speakers if diarization else None,
        vad=VadOptions(vad.vad_onset, vad.vad_offset, vad.chunk_size) if vad else None,
        decode=DecodeOptions(
            beam_size=asr.beam_size,
            patience=asr.patience,
            length_penalty=asr.length_penalty,
            temperatures=temperature_schedule(
                asr.temperature, asr.temperature_increment_on_fallback
            ),
            compression_ratio_threshold=asr.compression_ratio_threshold,
            log_prob_threshold=asr.log_prob_threshold,
            no_speech_threshold=asr.no_speech_threshold,
            initial_prompt=asr.initial_prompt or None,
            suppress_tokens=tuple(asr.suppress_tokens),
            suppress_numerals=asr.suppress_numerals,
        ),
    )
