"""Job settings: the Project-W 0.6 field names, defaults and validation rules.

Runners read these settings as stored on the job, so the names and shapes must not change.
Departures from 0.6, each deliberate: the default model comes from configuration
(``jobs.default_model``) instead of being fixed to ``large``, and a temperature increment of 0
is refused here (0.6 accepts it, and the runner then fails the job).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from projectw.errors import InvalidInput

WhisperModel = Literal[
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "turbo",
    "large",
    "large-v2",
    "large-v3",
    "large-v3-turbo",
]
MODELS: tuple[str, ...] = get_args(WhisperModel)

# The languages Whisper knows (ISO 639-1, plus haw, yue and Whisper's "jw").
LANGUAGES = frozenset(
    [
        "af",
        "am",
        "ar",
        "as",
        "az",
        "ba",
        "be",
        "bg",
        "bn",
        "bo",
        "br",
        "bs",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "eu",
        "fa",
        "fi",
        "fo",
        "fr",
        "gl",
        "gu",
        "ha",
        "haw",
        "he",
        "hi",
        "hr",
        "ht",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ja",
        "jw",
        "ka",
        "kk",
        "km",
        "kn",
        "ko",
        "la",
        "lb",
        "ln",
        "lo",
        "lt",
        "lv",
        "mg",
        "mi",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "mt",
        "my",
        "ne",
        "nl",
        "nn",
        "no",
        "oc",
        "pa",
        "pl",
        "ps",
        "pt",
        "ro",
        "ru",
        "sa",
        "sd",
        "si",
        "sk",
        "sl",
        "sn",
        "so",
        "sq",
        "sr",
        "su",
        "sv",
        "sw",
        "ta",
        "te",
        "tg",
        "th",
        "tk",
        "tl",
        "tr",
        "tt",
        "uk",
        "ur",
        "uz",
        "vi",
        "yi",
        "yo",
        "yue",
        "zh",
    ]
)
# Languages for which a word-alignment model exists.
ALIGNMENT_LANGUAGES = frozenset(
    [
        "en",
        "fr",
        "de",
        "es",
        "it",
        "ja",
        "zh",
        "nl",
        "uk",
        "pt",
        "ar",
        "cs",
        "ru",
        "pl",
        "hu",
        "fi",
        "fa",
        "el",
        "tr",
        "da",
        "he",
        "vi",
        "ko",
        "ur",
        "te",
        "hi",
        "ca",
        "ml",
        "no",
        "nn",
        "sk",
        "sl",
        "hr",
        "ro",
        "eu",
        "gl",
        "ka",
        "lv",
        "tl",
        "sv",
    ]
)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlignmentProcessing(_Part):
    """How aligned words are laid out in subtitles."""

    highlight_words: bool = False
    max_line_count: int | None = Field(None, ge=1)
    max_line_width: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _count_needs_width(self) -> AlignmentProcessing:
        if self.max_line_count is not None and self.max_line_width is None:
            raise ValueError("max_line_count needs max_line_width to be set as well")
        return self


class AlignmentSettings(_Part):
    """Word-level timing by forced alignment; null turns it off."""

    processing: AlignmentProcessing = Field(default_factory=AlignmentProcessing)
    return_char_alignments: bool = False
    interpolate_method: Literal["nearest", "linear", "ignore"] = "nearest"


class DiarizationSettings(_Part):
    """Who spoke when; null turns it off."""

    min_speakers: int | None = Field(None, ge=0)
    max_speakers: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _max_at_least_min(self) -> DiarizationSettings:
        if (
            self.min_speakers is not None
            and self.max_speakers is not None
            and self.max_speakers < self.min_speakers
        ):
            raise ValueError("max_speakers must be at least min_speakers")
        return self


class VadSettings(_Part):
    """Voice activity detection."""

    vad_onset: float = Field(0.5, gt=0, lt=1)
    vad_offset: float = Field(0.363, gt=0, lt=1)
    chunk_size: int = Field(30, ge=1, le=30)


class AsrSettings(_Part):
    """Decoding options."""

    beam_size: int = Field(5, ge=1)
    patience: float = Field(1.0, gt=0)
    length_penalty: float = Field(1.0, ge=0, le=1)
    temperature: float = Field(0.0, ge=0)
    temperature_increment_on_fallback: float = Field(0.2, gt=0)
    compression_ratio_threshold: float = Field(2.4, ge=0)
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    initial_prompt: str | None = Field(None, max_length=2000)
    suppress_tokens: list[int] = Field(default_factory=lambda: [-1])
    suppress_numerals: bool = False


class JobSettings(_Part):
    """Everything a runner needs to know about how to transcribe one recording."""

    email_notification: bool = False
    task: Literal["transcribe", "translate"] = "transcribe"
    model: WhisperModel = "small"
    language: str | None = Field(None, description="ISO 639 code; null detects the language.")
    alignment: AlignmentSettings | None = Field(default_factory=AlignmentSettings)
    diarization: DiarizationSettings | None = None
    vad_settings: VadSettings = Field(default_factory=VadSettings)
    asr_settings: AsrSettings = Field(default_factory=AsrSettings)

    @model_validator(mode="after")
    def _consistent(self) -> JobSettings:
        if self.language is not None and self.language not in LANGUAGES:
            raise ValueError(f"language {self.language!r} is not one Whisper knows")
        if self.model.endswith(".en") and self.language != "en":
            raise ValueError(f"the English-only model {self.model} needs language 'en'")
        if self.task == "translate":
            if self.alignment is not None:
                raise ValueError("alignment is not available when translating; set it to null")
            if self.language == "en":
                raise ValueError("translating English into English is not possible")
        if (
            self.alignment is not None
            and self.language is not None
            and self.language not in ALIGNMENT_LANGUAGES
        ):
            raise ValueError(
                f"alignment is not available for language {self.language!r}; set it to null"
            )
        return self


def _describe(exc: ValidationError, prefix: str) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    field = f"{prefix}.{location}" if location else prefix
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return f"Field '{field}' is not a job setting."
    return f"Field '{field}': {message[0].lower()}{message[1:]}."


def validate_settings(data: Any, *, field: str = "settings") -> JobSettings:
    """Parse settings, or raise InvalidInput with one sentence naming the offending field."""
    if not isinstance(data, dict):
        raise InvalidInput(f"Field '{field}' must be a JSON object.")
    try:
        return JobSettings.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_describe(exc, field)) from None


def resolve_settings(
    given: dict[str, Any] | None, user_defaults: dict[str, Any] | None, default_model: str
) -> JobSettings:
    """The settings a new job runs with.

    Top-level fields the request leaves out come from the user's default settings, then from
    the application defaults (with the configured default model). Nested sections such as
    ``alignment`` are taken whole from wherever they come from.
    """
    merged: dict[str, Any] = {"model": default_model}
    merged.update(user_defaults or {})
    if given is not None:
        if not isinstance(given, dict):
            raise InvalidInput("Field 'settings' must be a JSON object.")
        merged.update(given)
    return validate_settings(merged)
