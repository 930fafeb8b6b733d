"""Handing queued jobs to free runners: fair across users, by priority, by capability.

The order (DESIGN.md "Job lifecycle"): users with queued work take turns, the user served
longest ago first; within a user, higher job priority first, then the oldest job. Each job goes
to the free runner with the highest priority that can serve it. One pass assigns as many jobs
as there are free runners able to take them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from projectw.db.models import Job, Runner
from projectw.jobs.queue.capabilities import missing as missing_for
from projectw.jobs.queue.capabilities import parse_capabilities, requirements
from projectw.jobs.queue.changes import QueueChanges
from projectw.jobs.queue.leases import ACTIVE, is_online

# Queued jobs of one user examined per query while looking for one a free runner can serve.
_BATCH = 20


def runner_label(runner: Runner) -> str:
    """The name users see for a runner: the one it registered with, else the admin's."""
    return runner.registered_name or runner.name


def is_waiting() -> list[ColumnElement[bool]]:
    """Conditions of a job that waits in the queue."""
    return [Job.status == "queued", Job.abort_requested.is_(False)]


def queue_order() -> tuple[Any, ...]:
    """A user's queued jobs, next first."""
    return (Job.priority.desc(), Job.created_at, Job.id)


async def free_runners(session: AsyncSession, now: datetime) -> list[Runner]:
    """Online runners that take work and hold no job, highest priority first."""
    busy = set(
        await session.scalars(
            select(Job.runner_id).where(Job.status.in_(ACTIVE), Job.runner_id.is_not(None))
        )
    )
    rows = await session.scalars(
        select(Runner)
        .where(*is_online(now), Runner.accepting_jobs.is_(True))
        .order_by(Runner.priority.desc(), Runner.id)
    )
    return [runner for runner in rows if runner.id not in busy]


async def users_in_turn_order(session: AsyncSession) -> list[tuple[int, int]]:
    """(user id, queued job count) of users with queued work, whose turn it is first."""
    served = aliased(Job)
    # Status alone, so the index on (status, user_id, …) answers it without reading rows: a
    # queued job never has an abort requested (aborting a queued job ends it at once).
    queued = (
        select(Job.user_id, func.count().label("waiting"), func.min(Job.created_at).label("oldest"))
        .where(Job.status == "queued")
        .group_by(Job.user_id)
        .subquery()
    )
    last_served = (
        select(func.max(served.assigned_at))
        .where(served.user_id == queued.c.user_id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(queued.c.user_id, queued.c.waiting).order_by(
            last_served.is_not(None), last_served, queued.c.oldest, queued.c.user_id
        )
    )
    return [(int(user_id), int(waiting)) for user_id, waiting in rows]


@dataclass(frozen=True)
class Assignment:
    job: Job
    runner: Runner


async def _next_job_for(
    session: AsyncSession, user_id: int, runners: list[Runner], skip_locked: bool
) -> Assignment | None:
    """The user's next job that one of ``runners`` can serve, and the best such runner."""
    capabilities = {runner.id: parse_capabilities(runner.capabilities) for runner in runners}
    offset = 0
    while True:
        query = (
            select(Job)
            .where(Job.user_id == user_id, *is_waiting())
            .order_by(*queue_order())
            .offset(offset)
            .limit(_BATCH)
        )
        if skip_locked:
            query = query.with_for_update(skip_locked=True)
        jobs = list(await session.scalars(query))
        for job in jobs:
            needs = requirements(job.settings or {})
            for runner in runners:
                if not missing_for(capabilities[runner.id], needs):
                    return Assignment(job, runner)
        if len(jobs) < _BATCH:
            return None
        offset += _BATCH


async def assign_jobs(
    session: AsyncSession, now: datetime, lease: timedelta, changes: QueueChanges
) -> list[Assignment]:
    """Assign queued jobs to free runners; call inside ``queue_transaction``."""
    runners = await free_runners(session, now)
    if not runners:
        return []
    turns = deque(await users_in_turn_order(session))
    skip_locked = session.get_bind().dialect.name != "sqlite"
    made: list[Assignment] = []
    while runners and turns:
        user_id, waiting = turns.popleft()
        assignment = await _next_job_for(session, user_id, runners, skip_locked)
        if assignment is None:
            continue
        job, runner = assignment.job, assignment.runner
        job.status = "assigned"
        job.runner_id = runner.id
        job.assigned_at = now
        job.lease_expires_at = now + lease
        job.stage = None
        job.progress = 0.0
        job.waiting_reason = None
        await session.flush()
        await changes.job_updated(
            session,
            job,
            status="assigned",
            runner_id=runner.id,
            runner_name=runner_label(runner),
            assigned_at=now,
            waiting_reason=None,
        )
        changes.wake_runner(runner.id)
        runners.remove(runner)
        made.append(assignment)
        if waiting > 1:
            turns.append((user_id, waiting - 1))
    return made


def _ahead_of(job: Job) -> ColumnElement[bool]:
    """Jobs of the same user that come before ``job`` in the queue order."""
    return or_(
        Job.priority > job.priority,
        and_(
            Job.priority == job.priority,
            or_(
                Job.created_at < job.created_at,
                and_(Job.created_at == job.created_at, Job.id < job.id),
            ),
        ),
    )


async def queue_position(session: AsyncSession, job: Job) -> int | None:
    """1 for the job handed out next, 2 for the one after, …; None if the job is not queued.

    Assumes every runner could serve every job; users take turns as in ``assign_jobs``.
    """
    if job.status != "queued" or job.abort_requested:
        return None
    own_ahead = int(
        await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.user_id == job.user_id, *is_waiting(), _ahead_of(job))
        )
        or 0
    )
    turns = await users_in_turn_order(session)
    rank = next((i for i, (user_id, _n) in enumerate(turns) if user_id == job.user_id), len(turns))
    before = own_ahead
    for index, (user_id, waiting) in enumerate(turns):
        if user_id != job.user_id:
            before += min(waiting, own_ahead + (1 if index < rank else 0))
    return before + 1
