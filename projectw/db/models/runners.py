"""Runners: registered by an admin (a token), online while they heartbeat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from projectw.db.base import Base, UTCDateTime, utcnow


class Runner(Base):
    """A runner token and, while the runner is online, its session and capabilities."""

    __tablename__ = "runners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The host whose server runs this runner in-process; its token is replaced at every start.
    embedded_host: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Online session (NULL while offline). The lease is renewed by every heartbeat.
    session_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    session_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    online_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # False while a runner shuts down: it finishes its job but takes no new one.
    accepting_jobs: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_name: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[str | None] = mapped_column(String(100))
    git_hash: Mapped[str | None] = mapped_column(String(40))
    source_code_url: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    capabilities: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jobs_succeeded: Mapped[int] = mapped_column(Integer, default=0)
    jobs_failed: Mapped[int] = mapped_column(Integer, default=0)
