"""What clients see of a job: the response schemas, built from rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from projectw.db.models import Job

JobStatus = Literal["queued", "assigned", "running", "succeeded", "failed", "aborted"]
FINISHED = frozenset({"succeeded", "failed", "aborted"})


class MediaView(BaseModel):
    """What the probe found out about the uploaded recording."""

    content_type: str | None
    size_bytes: int
    duration_seconds: float | None
    container: str | None
    codec: str | None
    channels: int | None
    sample_rate: int | None


class JobView(BaseModel):
    """One job as its owner sees it.

    Fields are flat and named like the job's columns, so that a ``job_updated`` event's changed
    fields apply to this object one to one.
    """

    id: int
    file_name: str
    status: JobStatus
    stage: str | None
    progress: float = Field(description="0 to 100.")
    priority: int
    attempts: int
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    assigned_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    queue_position: int | None = Field(
        None,
        description="1 for the job a free runner takes next; only in single-job answers and "
        "only while the job is queued.",
    )
    waiting_reason: str | None
    abort_requested: bool
    runner_id: int | None
    runner_name: str | None
    error_code: str | None
    error_message: str | None
    media: MediaView
    audio_available: bool
    audio_deleted_at: datetime | None
    transcript_available: bool
    retry_of_id: int | None


def job_view(
    job: Job, runner_name: str | None = None, queue_position: int | None = None
) -> JobView:
    """The client's view of a job row."""
    return JobView(
        id=job.id,
        file_name=job.file_name,
        status=job.status,
        stage=job.stage,
        progress=job.progress,
        priority=job.priority,
        attempts=job.attempts,
        settings=job.settings,
        created_at=job.created_at,
        updated_at=job.updated_at,
        assigned_at=job.assigned_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        queue_position=queue_position if job.status == "queued" else None,
        waiting_reason=job.waiting_reason,
        abort_requested=job.abort_requested,
        runner_id=job.runner_id,
        runner_name=runner_name if job.runner_id else None,
        error_code=job.error_code,
        error_message=job.error_message,
        media=MediaView(
            content_type=job.content_type,
            size_bytes=job.size_bytes,
            duration_seconds=job.duration_seconds,
            container=job.container,
            codec=job.codec,
            channels=job.channels,
            sample_rate=job.sample_rate,
        ),
        audio_available=job.audio_blob_id is not None,
        audio_deleted_at=job.audio_deleted_at,
        transcript_available=job.transcript_blob_id is not None,
        retry_of_id=job.retry_of_id,
    )


def event_payload(view: JobView) -> dict[str, Any]:
    """A job view as JSON-ready data for a ``job_created`` event."""
    return view.model_dump(mode="json")
