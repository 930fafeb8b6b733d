"""The canonical transcript: one JSON document from which every download format is rendered."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    # NaN or infinite times and scores cannot be rendered; refuse them where they enter.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class Word(_Strict):
    """One word with its timing; times may be missing when the engine could not place it."""

    word: str
    start: float | None = Field(None, ge=0)
    end: float | None = Field(None, ge=0)
    probability: float | None = Field(None, ge=0, le=1, description="Confidence 0..1.")
    speaker: str | None = None


class Segment(_Strict):
    """A stretch of speech, usually one sentence or subtitle cue."""

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    speaker: str | None = None
    words: list[Word] = Field(default_factory=list)


class EngineInfo(_Strict):
    """What produced the transcript."""

    name: str
    model: str | None = None
    version: str | None = None


class Transcript(_Strict):
    """Segments with words, the language, and what made them."""

    language: str | None = None
    duration: float | None = Field(None, ge=0, description="Audio duration in seconds.")
    segments: list[Segment] = Field(default_factory=list)
    engine: EngineInfo | None = None

    @property
    def text(self) -> str:
        return " ".join(segment.text.strip() for segment in self.segments if segment.text.strip())
