"""The runner protocol's wire models, shared by the server and the runner.

The routes and shapes are those of Project-W 0.6 runners (they keep working unchanged); every
extension is an optional field an old runner never sends and ignores when it receives it:

- ``capabilities`` at registration (what engine, models and features the runner serves);
- ``stage`` and ``accepting_jobs`` in heartbeats, and a ``wait`` query parameter that turns a
  heartbeat into a long poll answered as soon as a job is assigned or an abort is requested;
- ``job_id`` in heartbeat answers and results, so a runner and the server agree on the job;
- the newly assigned job's settings in the heartbeat answer, and the runner's next job in the
  answer to its result, which saves a round trip or two per job;
- a result that carries the canonical ``result`` transcript instead of the five rendered
  formats, and an ``error_code`` beside ``error_msg``.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from projectw.runner.engines.base import Capabilities
from projectw.transcripts.model import Transcript

RUNNER_ROUTES = "/api/runners"
SESSION_PARAM = "session_token"

ErrorCode = Literal["aborted", "engine_error", "engine_crashed"]


class _Wire(BaseModel):
    # Old and new runners talk to old and new servers: unknown fields are ignored, not errors.
    model_config = ConfigDict(extra="ignore")


class RegisterRequest(_Wire):
    name: str = Field(min_length=1, max_length=40)
    version: str = Field(max_length=100)
    git_hash: str = Field(max_length=40)
    source_code_url: str = Field(max_length=2000)
    priority: int = Field(gt=0)
    capabilities: Capabilities | None = Field(
        None, description="What this runner serves; absent for Project-W 0.6 runners."
    )


class RegisterResponse(_Wire):
    id: int
    session_token: str


class HeartbeatRequest(_Wire):
    progress: float = Field(0.0, ge=0.0, le=100.0)
    stage: str | None = Field(None, max_length=40, description="Name of the current step.")
    accepting_jobs: bool = Field(
        True, description="False while the runner shuts down: finish the job, take no new one."
    )


class JobInfoResponse(_Wire):
    id: int
    settings: dict[str, Any]


class HeartbeatResponse(_Wire):
    abort: bool
    job_assigned: bool
    job_id: int | None = None
    job: JobInfoResponse | None = Field(
        None, description="A newly assigned job's id and settings (no retrieve_job_info needed)."
    )


class LegacyTranscript(_Wire):
    """The five formats a Project-W 0.6 runner renders itself; ``as_json`` is WhisperX-style."""

    as_txt: str
    as_srt: str
    as_tsv: str
    as_vtt: str
    as_json: dict[str, Any]


class SubmitResultRequest(_Wire):
    error_msg: str | None = Field(None, max_length=10_000)
    transcript: LegacyTranscript | None = None
    result: Transcript | None = Field(
        None, description="The canonical transcript; the server renders every format from it."
    )
    error_code: ErrorCode | None = None
    job_id: int | None = Field(None, description="The job this result is for, if known.")

    @model_validator(mode="after")
    def _one_outcome(self) -> Self:
        if self.error_msg is None and self.transcript is None and self.result is None:
            raise ValueError("one of error_msg, transcript or result must be set")
        return self


class Acknowledged(_Wire):
    """The answer to unregister: old runners only check that it is JSON."""

    detail: str


class SubmitResultResponse(Acknowledged):
    next_job: JobInfoResponse | None = Field(
        None, description="The job this runner was given next, if any; start on it at once."
    )
