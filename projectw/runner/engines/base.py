"""What every engine provides to the runner."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from projectw.transcripts.model import Transcript

ProgressFn = Callable[[str, float], None]
"""Called with (stage name, percent 0..100) as work advances; cheap, may be called often."""


class EngineError(Exception):
    """The engine could not transcribe this job; the message is shown to the user."""


class EngineCancelled(Exception):
    """The job was aborted while the engine worked on it."""


class Capabilities(BaseModel):
    """What a runner can serve; sent at registration and matched against job settings."""

    engine: str
    models: list[str] = Field(default_factory=list, description="Models available now.")
    downloadable: bool = Field(False, description="Other known models can be fetched on demand.")
    features: list[str] = Field(
        default_factory=list,
        description="Any of: translate, alignment, diarization, vad.",
    )


class Engine(Protocol):
    """A transcription engine. Blocking; the runner calls it outside any event loop."""

    name: str

    def capabilities(self) -> Capabilities: ...

    def transcribe(
        self,
        audio: Path,
        settings: Mapping[str, Any],
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> Transcript:
        """Transcribe ``audio`` with the job's settings (Project-W 0.6 field names).

        Checks ``cancelled`` often and raises EngineCancelled when it is set; raises
        EngineError with a user-readable sentence when the job cannot be done.
        """
        ...

    def close(self) -> None:
        """Release models and memory."""
        ...
