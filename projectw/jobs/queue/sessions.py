"""Runner sessions: register, heartbeat (with long poll), unregister.

A runner authenticates with its token (``Authorization: Bearer``). Registering opens a session
whose token the runner passes to every later call; the session stays open while heartbeats
renew its lease. Sessions live in the database, so a server restart keeps them: runners carry
on where they were, and nothing is assigned twice.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import utcnow
from projectw.db.models import Job, Runner
from projectw.errors import Forbidden, Unauthorized
from projectw.jobs import events
from projectw.jobs.queue.assign import assign_jobs
from projectw.jobs.queue.changes import QueueChanges
from projectw.jobs.queue.leases import ACTIVE, active_job, close_session
from projectw.jobs.queue.lock import queue_transaction
from projectw.jobs.queue.reaper import refresh_waiting_reasons
from projectw.protocol import HeartbeatRequest, RegisterRequest, RegisterResponse

if TYPE_CHECKING:
    from projectw.runtime import Runtime

TOKEN_PREFIX = "pwr_"


class RunnerSessionInvalid(Unauthorized):
    """The runner's session ended (it went offline or registered anew)."""

    code = "runner_session_invalid"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_runner_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _no_token() -> Unauthorized:
    return Unauthorized("The runner token is missing, unknown or revoked.")


def _by_token(token: str) -> ColumnElement[bool]:
    return and_(Runner.token_hash == hash_token(token), Runner.revoked_at.is_(None))


async def runner_by_token(session: AsyncSession, token: str | None) -> Runner:
    """The runner this token belongs to; 401 if unknown or revoked."""
    runner = await session.scalar(select(Runner).where(_by_token(token))) if token else None
    if runner is None:
        raise _no_token()
    return runner


async def runner_by_session(
    session: AsyncSession, token: str | None, session_token: str | None
) -> tuple[Runner, Job | None]:
    """The runner whose open session this is, and the job it holds; 401 if no such session.

    One query for both: every protocol call needs them, and runners call often.
    """
    row = None
    if token:
        row = (
            await session.execute(
                select(Runner, Job)
                .outerjoin(Job, and_(Job.runner_id == Runner.id, Job.status.in_(ACTIVE)))
                .where(_by_token(token))
                .order_by(Job.assigned_at, Job.id)
                .limit(1)
            )
        ).first()
    if row is None:
        raise _no_token()
    runner, job = row
    if not session_token or runner.session_token_hash != hash_token(session_token):
        raise RunnerSessionInvalid("This runner session is not open; register the runner again.")
    return runner, job


@dataclass(frozen=True)
class Beat:
    """What a heartbeat tells the runner."""

    runner_id: int
    abort: bool
    job_id: int | None
    job_status: str | None
    job_settings: dict[str, Any] | None = None

    @property
    def job_assigned(self) -> bool:
        return self.job_id is not None


async def register(
    runtime: Runtime, token: str | None, request: RegisterRequest
) -> RegisterResponse:
    """Open a session; 403 if the runner is already online."""
    lease = runtime.queue.lease
    changes = QueueChanges()
    now = utcnow()
    session_token = secrets.token_urlsafe(32)
    async with queue_transaction(runtime.db) as session:
        runner = await runner_by_token(session, token)
        if runner.session_token_hash is not None:
            if runner.online_until is not None and runner.online_until > now:
                raise Forbidden(
                    "This runner is already online; unregister it before registering again.",
                    code="runner_already_online",
                )
            # The old session ran out but was not reaped yet: treat it as the reaper would.
            await close_session(
                session,
                runner,
                now,
                changes,
                count_attempt=lambda _job: True,
                max_attempts=runtime.settings.queue.max_attempts,
            )
        runner.session_token_hash = hash_token(session_token)
        runner.session_started_at = now
        runner.online_until = now + lease
        runner.last_heartbeat_at = now
        runner.accepting_jobs = True
        runner.registered_name = request.name
        runner.version = request.version
        runner.git_hash = request.git_hash
        runner.source_code_url = request.source_code_url
        runner.priority = request.priority
        runner.capabilities = (
            request.capabilities.model_dump(mode="json") if request.capabilities else None
        )
        await session.flush()
        await refresh_waiting_reasons(session, now, changes)
        await assign_jobs(session, now, lease, changes)
        runner_id = runner.id
    await changes.publish(runtime)
    return RegisterResponse(id=runner_id, session_token=session_token)


async def unregister(runtime: Runtime, token: str | None, session_token: str | None) -> None:
    """Close the runner's session; the job it held goes back to the queue.

    Called with the session's own token, this is an orderly hand-back. Without it (a
    Project-W 0.6 runner, or a restarted runner closing the session of its previous, crashed
    process) a job that was already running counts as an attempt, so a job that crashes its
    runner every time cannot cycle forever.
    """
    changes = QueueChanges()
    now = utcnow()
    async with queue_transaction(runtime.db) as session:
        runner = await runner_by_token(session, token)
        if runner.session_token_hash is None:
            return
        orderly = (
            session_token is not None and hash_token(session_token) == runner.session_token_hash
        )
        await close_session(
            session,
            runner,
            now,
            changes,
            count_attempt=lambda held: held.status == "running" and not orderly,
            max_attempts=runtime.settings.queue.max_attempts,
        )
        changes.wake_runner(runner.id)
        await session.flush()
        await refresh_waiting_reasons(session, now, changes)
        await assign_jobs(session, now, runtime.queue.lease, changes)
    await changes.publish(runtime)


async def heartbeat(
    runtime: Runtime, token: str | None, session_token: str | None, request: HeartbeatRequest
) -> Beat:
    """Renew the runner's lease, record progress, hand it a job if it is free."""
    lease = runtime.queue.lease
    changes = QueueChanges()
    now = utcnow()
    async with queue_transaction(runtime.db) as session:
        runner, job = await runner_by_session(session, token, session_token)
        runner.online_until = now + lease
        runner.last_heartbeat_at = now
        runner.accepting_jobs = request.accepting_jobs
        if job is None and runner.accepting_jobs:
            await assign_jobs(session, now, lease, changes)
            job = await active_job(session, runner.id)
        if job is not None:
            job.lease_expires_at = runner.online_until
            if job.status == "running" and not job.abort_requested:
                changed: dict[str, Any] = {}
                if request.stage is not None and request.stage != job.stage:
                    job.stage = changed["stage"] = request.stage
                if request.progress != job.progress:
                    job.progress = request.progress
                    if changed or await events.progress_event_due(runtime.state, job.id):
                        changed["progress"] = request.progress
                if changed:
                    await changes.job_updated(session, job, **changed)
        beat = Beat(
            runner_id=runner.id,
            abort=job is not None and job.abort_requested,
            job_id=job.id if job is not None else None,
            job_status=job.status if job is not None else None,
            job_settings=job.settings if job is not None and job.status == "assigned" else None,
        )
    await changes.publish(runtime)
    return beat


async def long_poll(
    runtime: Runtime,
    token: str | None,
    session_token: str | None,
    request: HeartbeatRequest,
    wait: float,
) -> Beat:
    """A heartbeat that waits up to ``wait`` seconds for news: a new job or an abort.

    The wait is capped at half the lease, so a runner that long-polls never loses its lease.
    """
    deadline = time.monotonic() + min(wait, runtime.queue.lease.total_seconds() / 2)
    while True:
        beat = await heartbeat(runtime, token, session_token, request)
        remaining = deadline - time.monotonic()
        news = beat.abort or beat.job_status == "assigned"
        if news or remaining <= 0 or runtime.stopping.is_set():
            return beat
        await runtime.queue.wait(beat.runner_id, beat.job_id, remaining)
