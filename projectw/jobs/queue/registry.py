"""Runner tokens as admins see them: create, list, revoke; and the embedded runner's token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import Job, Runner
from projectw.errors import Conflict, NotFound
from projectw.jobs.queue.changes import QueueChanges
from projectw.jobs.queue.leases import ACTIVE, close_session
from projectw.jobs.queue.lock import queue_transaction
from projectw.jobs.queue.reaper import runners_changed
from projectw.jobs.queue.sessions import hash_token, new_runner_token

if TYPE_CHECKING:
    from projectw.runtime import Runtime


async def create_runner(
    db: Database, name: str, created_by_id: int | None = None
) -> tuple[Runner, str]:
    """A new runner and its token; only the token's hash is stored, so show it once."""
    token = new_runner_token()
    async with db.session() as session, session.begin():
        runner = Runner(name=name, token_hash=hash_token(token), created_by_id=created_by_id)
        session.add(runner)
    return runner, token


@dataclass(frozen=True)
class CurrentJob:
    id: int
    status: str
    stage: str | None
    progress: float


@dataclass(frozen=True)
class RunnerState:
    """A runner as admins see it."""

    runner: Runner
    online: bool
    current_job: CurrentJob | None

    @property
    def busy(self) -> bool:
        return self.current_job is not None


async def list_runners(session: AsyncSession, include_revoked: bool = False) -> list[RunnerState]:
    now = utcnow()
    query = select(Runner).order_by(Runner.id)
    if not include_revoked:
        query = query.where(Runner.revoked_at.is_(None))
    runners = list(await session.scalars(query))
    held: dict[int, CurrentJob] = {}
    jobs = await session.execute(
        select(Job.runner_id, Job.id, Job.status, Job.stage, Job.progress).where(
            Job.status.in_(ACTIVE), Job.runner_id.is_not(None)
        )
    )
    for runner_id, job_id, status, stage, progress in jobs:
        if runner_id is not None:
            held.setdefault(runner_id, CurrentJob(job_id, status, stage, progress))
    return [
        RunnerState(
            runner=runner,
            online=is_online_now(runner, now),
            current_job=held.get(runner.id),
        )
        for runner in runners
    ]


def is_online_now(runner: Runner, now: datetime) -> bool:
    return (
        runner.revoked_at is None
        and runner.session_token_hash is not None
        and runner.online_until is not None
        and runner.online_until > now
    )


async def revoke_runner(runtime: Runtime, runner_id: int) -> None:
    """Revoke a runner's token: it goes offline at once and its job goes back to the queue."""
    changes = QueueChanges()
    now = utcnow()
    async with queue_transaction(runtime.db, changes) as session:
        runner = await session.get(Runner, runner_id)
        if runner is None or runner.revoked_at is not None:
            raise NotFound(f"There is no runner {runner_id}.")
        if runner.embedded_host is not None:
            raise Conflict(
                "The embedded runner cannot be revoked; set runner.embedded to false instead.",
                code="runner_embedded",
            )
        # Not the job's fault: no attempt is counted.
        await close_session(
            session,
            runner,
            now,
            changes,
            count_attempt=lambda _job: False,
            max_attempts=runtime.settings.queue.max_attempts,
        )
        runner.revoked_at = now
        changes.wake_runner(runner.id)
        await runners_changed(session, now, runtime.queue.lease, changes)
    await changes.publish(runtime)


async def embedded_runner_token(runtime: Runtime, host: str, name: str) -> str:
    """A fresh token for this host's embedded runner, closing the session of its last run.

    The embedded runner lives and dies with the server process, so whatever it held when the
    server stopped is handed back now, without counting an attempt.
    """
    token = new_runner_token()
    changes = QueueChanges()
    now = utcnow()
    async with queue_transaction(runtime.db, changes) as session:
        runner = await session.scalar(select(Runner).where(Runner.embedded_host == host))
        if runner is None:
            runner = Runner(name=name, embedded_host=host, token_hash=hash_token(token))
            session.add(runner)
        else:
            await close_session(
                session,
                runner,
                now,
                changes,
                count_attempt=lambda _job: False,
                max_attempts=runtime.settings.queue.max_attempts,
            )
            runner.name = name
            runner.token_hash = hash_token(token)
            runner.revoked_at = None
    await changes.publish(runtime)
    return token
