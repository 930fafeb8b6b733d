"""Handing queued jobs to free runners: fair across users, by priority, by capability.

The order (DESIGN.md "Job lifecycle"): users with queued work take turns, the user served
longest ago first (users never served first of all, the one with the oldest queued job
first); within a user, higher job priority first, then the oldest job. Each job goes to the
free runner with the highest priority that can serve it. One pass assigns as many jobs as
there are free runners able to take them.

Every query of a pass reads a few index entries per user with queued work, however long the
queue: users are found by skipping through the index on (status, user_id, …) rather than by
grouping all queued jobs, and a user's next job is the first entry of ``ix_jobs_turn``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.models import Job, Runner
from projectw.jobs.queue.capabilities import missing as missing_for
from projectw.jobs.queue.capabilities import parse_capabilities, requirements
from projectw.jobs.queue.changes import QueueChanges
from projectw.jobs.queue.leases import ACTIVE, JOBS, RUNNERS, is_online
from projectw.runner.engines.base import Capabilities

# Queued jobs of one user examined per query while looking for one a free runner can serve:
# usually the first one fits, so the first read is small.
_FIRST_BATCH = 4
_BATCH = 50


def runner_label(runner: Runner) -> str:
    """The name users see for a runner: the one it registered with, else the admin's."""
    return runner.registered_name or runner.name


def is_waiting() -> list[ColumnElement[bool]]:
    """Conditions of a job that waits in the queue."""
    return [Job.status == "queued", Job.abort_requested.is_(False)]


def queue_order() -> tuple[Any, ...]:
    """A user's queued jobs, next first."""
    return (Job.priority.desc(), Job.created_at, Job.id)


@dataclass(frozen=True)
class FreeRunner:
    """An online runner that takes work and holds no job."""

    id: int
    label: str
    capabilities: Capabilities


_FREE_RUNNERS = (
    select(RUNNERS.c.id, RUNNERS.c.registered_name, RUNNERS.c.name, RUNNERS.c.capabilities)
    .where(
        *is_online(bindparam("now", type_=RUNNERS.c.online_until.type)),
        RUNNERS.c.accepting_jobs.is_(True),
        ~exists().where(JOBS.c.runner_id == RUNNERS.c.id, JOBS.c.status.in_(ACTIVE)),
    )
    .order_by(RUNNERS.c.priority.desc(), RUNNERS.c.id)
)


async def free_runners(session: AsyncSession, now: datetime) -> list[FreeRunner]:
    """Online runners that take work and hold no job, highest priority first."""
    rows = await session.execute(_FREE_RUNNERS, {"now": now})
    return [
        FreeRunner(runner_id, registered or name, parse_capabilities(capabilities))
        for runner_id, registered, name, capabilities in rows
    ]


def _users_in_turn_order() -> Select[int]:
    queued = JOBS.c.status == "queued"
    # The users with queued work, one index probe each (a loose index scan).
    first = select(func.min(JOBS.c.user_id).label("user_id")).where(queued)
    waiting = first.cte("waiting", recursive=True)
    later = JOBS.alias("later")
    following = (
        select(func.min(later.c.user_id))
        .where(later.c.status == "queued", later.c.user_id > waiting.c.user_id)
        .scalar_subquery()
    )
    waiting = waiting.union_all(select(following).where(waiting.c.user_id.is_not(None)))
    served = JOBS.alias("served")
    last_served = (
        select(func.max(served.c.assigned_at))
        .where(served.c.user_id == waiting.c.user_id)
        .scalar_subquery()
    )
    mine = JOBS.alias("mine")
    oldest = (
        select(func.min(mine.c.created_at))
        .where(mine.c.status == "queued", mine.c.user_id == waiting.c.user_id)
        .scalar_subquery()
    )
    users = (
        select(waiting.c.user_id, last_served.label("last_served"), oldest.label("oldest"))
        .where(waiting.c.user_id.is_not(None))
        .subquery("users")
    )
    return select(users.c.user_id).order_by(
        users.c.last_served.is_not(None), users.c.last_served, users.c.oldest, users.c.user_id
    )


_USERS_IN_TURN_ORDER = _users_in_turn_order()


async def users_in_turn_order(session: AsyncSession) -> list[int]:
    """The users with queued work, whose turn it is first."""
    # Status alone: a queued job never has an abort requested (aborting a queued job ends it
    # at once).
    return [int(user_id) for user_id in await session.scalars(_USERS_IN_TURN_ORDER)]


def _next_jobs(skip_locked: bool) -> Select[int, dict[str, Any]]:
    query = (
        select(JOBS.c.id, JOBS.c.settings)
        .where(
            JOBS.c.status == "queued",
            JOBS.c.user_id == bindparam("user_id"),
            JOBS.c.abort_requested.is_(False),
        )
        .order_by(JOBS.c.priority.desc(), JOBS.c.created_at, JOBS.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return query.with_for_update(skip_locked=True) if skip_locked else query


_NEXT_JOBS = {skip: _next_jobs(skip) for skip in (False, True)}


@dataclass(frozen=True)
class Assignment:
    job_id: int
    user_id: int
    settings: dict[str, Any]
    runner: FreeRunner


async def _next_job_for(
    session: AsyncSession, user_id: int, runners: list[FreeRunner], skip_locked: bool
) -> Assignment | None:
    """The user's next job that one of ``runners`` can serve, and the best such runner."""
    offset, limit = 0, _FIRST_BATCH
    while True:
        rows = list(
            await session.execute(
                _NEXT_JOBS[skip_locked], {"user_id": user_id, "limit": limit, "offset": offset}
            )
        )
        for job_id, settings in rows:
            needs = requirements(settings or {})
            for runner in runners:
                if not missing_for(runner.capabilities, needs):
                    return Assignment(job_id, user_id, settings, runner)
        if len(rows) < limit:
            return None
        offset, limit = offset + limit, _BATCH


_ASSIGN = (
    update(JOBS)
    .where(JOBS.c.id == bindparam("job_id"))
    .values(
        status="assigned",
        runner_id=bindparam("runner_id"),
        assigned_at=bindparam("now"),
        lease_expires_at=bindparam("lease_expires_at"),
        stage=None,
        progress=0.0,
        waiting_reason=None,
    )
)


async def assign_jobs(
    session: AsyncSession, now: datetime, lease: timedelta, changes: QueueChanges
) -> list[Assignment]:
    """Assign queued jobs to free runners; call inside ``queue_transaction``."""
    if session.new or session.dirty:
        # The queries below are Core statements, which do not flush the ORM's changes.
        await session.flush()
    runners = await free_runners(session, now)
    if not runners:
        return []
    turns = deque(await users_in_turn_order(session))
    skip_locked = session.get_bind().dialect.name != "sqlite"
    made: list[Assignment] = []
    while runners and turns:
        user_id = turns.popleft()
        assignment = await _next_job_for(session, user_id, runners, skip_locked)
        if assignment is None:
            continue
        runner = assignment.runner
        await session.execute(
            _ASSIGN,
            {
                "job_id": assignment.job_id,
                "runner_id": runner.id,
                "now": now,
                "lease_expires_at": now + lease,
            },
        )
        changes.event(
            user_id,
            assignment.job_id,
            status="assigned",
            runner_id=runner.id,
            runner_name=runner.label,
            assigned_at=now,
            waiting_reason=None,
        )
        changes.wake_runner(runner.id)
        runners.remove(runner)
        made.append(assignment)
        # The user's turn comes again after the others'; a user without more work is dropped
        # then, when no job is found.
        turns.append(user_id)
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
    counts = await session.execute(
        select(Job.user_id, func.count()).where(*is_waiting()).group_by(Job.user_id)
    )
    waiting = {int(user_id): int(count) for user_id, count in counts}
    turns = await users_in_turn_order(session)
    rank = next((i for i, user_id in enumerate(turns) if user_id == job.user_id), len(turns))
    before = own_ahead
    for index, user_id in enumerate(turns):
        if user_id != job.user_id:
            before += min(waiting.get(user_id, 0), own_ahead + (1 if index < rank else 0))
    return before + 1
