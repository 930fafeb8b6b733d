"""The queue at a glance, for admins: how much waits, runs, and finished in the last day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.models import Job

ACTIVE_STATUSES = ("queued", "assigned", "running")
FINISHED_STATUSES = ("succeeded", "failed", "aborted")


@dataclass(frozen=True)
class QueueOverview:
    queued: int
    assigned: int
    running: int
    succeeded_last_day: int
    failed_last_day: int
    aborted_last_day: int


async def queue_overview(session: AsyncSession, now: datetime) -> QueueOverview:
    """Counts of jobs by status: active ones now, finished ones over the last 24 hours."""
    active = dict(
        (
            await session.execute(
                select(Job.status, func.count())
                .where(Job.status.in_(ACTIVE_STATUSES))
                .group_by(Job.status)
            )
        ).all()
    )
    finished = dict(
        (
            await session.execute(
                select(Job.status, func.count())
                .where(
                    Job.status.in_(FINISHED_STATUSES),
                    Job.finished_at >= now - timedelta(days=1),
                )
                .group_by(Job.status)
            )
        ).all()
    )
    return QueueOverview(
        queued=active.get("queued", 0),
        assigned=active.get("assigned", 0),
        running=active.get("running", 0),
        succeeded_last_day=finished.get("succeeded", 0),
        failed_last_day=finished.get("failed", 0),
        aborted_last_day=finished.get("aborted", 0),
    )
