"""The reaper: takes jobs back from runners that went silent, and keeps waiting reasons true.

Any server instance may run it at any time; it is idempotent. A runner is offline once its
lease (renewed by every heartbeat) has run out; the job it held goes back to the queue with one
more attempt, or fails after ``queue.max_attempts``. Aborted jobs whose runner vanished end as
aborted and are never handed out again.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import utcnow
from projectw.db.models import Job, Runner
from projectw.jobs.queue.assign import assign_jobs, is_waiting
from projectw.jobs.queue.capabilities import describe_wait, parse_capabilities
from projectw.jobs.queue.changes import QueueChanges
from projectw.jobs.queue.leases import (
    ACTIVE,
    HELD_COLUMNS,
    end_session,
    held_job,
    online_runners,
    release,
)
from projectw.jobs.queue.lock import queue_transaction

if TYPE_CHECKING:
    from projectw.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReapReport:
    runners_offline: int
    jobs_released: int


async def refresh_waiting_reasons(
    session: AsyncSession, now: datetime, changes: QueueChanges
) -> None:
    """Set every queued job's waiting reason from the runners online now."""
    online = [parse_capabilities(r.capabilities) for r in await online_runners(session, now)]
    rows = await session.execute(
        select(Job.id, Job.user_id, Job.settings, Job.waiting_reason).where(*is_waiting())
    )
    reasons: dict[str, str | None] = {}
    changed: dict[str | None, list[tuple[int, int]]] = defaultdict(list)
    for job_id, user_id, settings, current in rows:
        key = json.dumps(settings or {}, sort_keys=True, default=str)
        if key not in reasons:
            reasons[key] = describe_wait(online, settings or {})
        if reasons[key] != current:
            changed[reasons[key]].append((job_id, user_id))
    for reason, jobs in changed.items():
        await session.execute(
            update(Job)
            .where(Job.id.in_([job_id for job_id, _user in jobs]), *is_waiting())
            .values(waiting_reason=reason)
        )
        for job_id, user_id in jobs:
            changes.event(user_id, job_id, waiting_reason=reason)


async def runners_changed(
    session: AsyncSession, now: datetime, lease: timedelta, changes: QueueChanges
) -> None:
    """After a runner came, went or was revoked: waiting reasons follow, then an assignment."""
    await session.flush()
    await refresh_waiting_reasons(session, now, changes)
    await assign_jobs(session, now, lease, changes)


async def reap(runtime: Runtime) -> ReapReport:
    """Mark silent runners offline and take back the jobs whose lease ran out."""
    queue = runtime.settings.queue
    changes = QueueChanges()
    now = utcnow()
    async with queue_transaction(runtime.db, changes) as session:
        expired = list(
            await session.scalars(
                select(Runner).where(
                    Runner.session_token_hash.is_not(None), Runner.online_until <= now
                )
            )
        )
        for runner in expired:
            end_session(runner)
            changes.wake_runner(runner.id)
        gone = [runner.id for runner in expired]
        rows = await session.execute(
            select(Job.runner_id, *HELD_COLUMNS)
            .where(
                Job.status.in_(ACTIVE),
                or_(
                    Job.lease_expires_at.is_(None),
                    Job.lease_expires_at <= now,
                    Job.runner_id.is_(None),
                    Job.runner_id.in_(gone),
                ),
            )
            .order_by(Job.id)
        )
        lost = [(runner_id, held_job(job)) for runner_id, *job in rows]
        for runner_id, job in lost:
            assert job is not None
            log.warning(
                "runner lost; taking its job back",
                extra={"job_id": job.id, "runner_id": runner_id, "attempts": job.attempts + 1},
            )
            await release(
                session, job, now, changes, count_attempt=True, max_attempts=queue.max_attempts
            )
        await refresh_waiting_reasons(session, now, changes)
        if lost:
            await assign_jobs(session, now, runtime.queue.lease, changes)
    await changes.publish(runtime)
    if expired:
        log.info("runners went offline", extra={"runner_ids": gone})
    return ReapReport(runners_offline=len(expired), jobs_released=len(lost))
