"""Transcription jobs and the per-user event log that feeds server-sent events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from projectw.db.base import Base, UTCDateTime, utcnow


class Job(Base):
    """One recording to transcribe. The table is the queue (see DESIGN.md "Job lifecycle").

    status: queued → assigned → running → succeeded | failed | aborted.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_created", "user_id", "created_at", "id"),
        Index("ix_jobs_user_name", "user_id", "file_name", "id"),
        # Per status and user, oldest first: counts by status, the users with queued work and
        # each one's oldest queued job are a few index entries each, however long the history.
        Index("ix_jobs_queue", "status", "user_id", "created_at"),
        # Round-robin fairness asks "when did this user last get a runner?" per queued user;
        # ix_jobs_turn (below the class) then finds that user's next job.
        Index("ix_jobs_user_assigned", "user_id", "assigned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    stage: Mapped[str | None] = mapped_column(String(40))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    container: Mapped[str | None] = mapped_column(String(50))
    codec: Mapped[str | None] = mapped_column(String(50))
    channels: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    audio_blob_id: Mapped[int | None] = mapped_column(
        ForeignKey("blobs.id", ondelete="SET NULL"), index=True
    )
    transcript_blob_id: Mapped[int | None] = mapped_column(
        ForeignKey("blobs.id", ondelete="SET NULL"), index=True
    )
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    runner_id: Mapped[int | None] = mapped_column(
        ForeignKey("runners.id", ondelete="SET NULL"), index=True
    )
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    abort_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    waiting_reason: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audio_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# A user's queued jobs in the order they are handed out (highest priority, then oldest), so
# that taking the next one reads a few index entries instead of sorting all of them.
Index("ix_jobs_turn", Job.status, Job.user_id, Job.priority.desc(), Job.created_at, Job.id)


class Event(Base):
    """A change a user's clients are told about; kept briefly so streams can resume."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    job_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
