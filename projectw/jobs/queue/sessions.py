"""Runner sessions: register, heartbeat (with long poll), unregister.

A runner authenticates with its token (``Authorization: Bearer``). Registering opens a session
whose token the runner passes to every later call; the session stays open while heartbeats
renew its lease. Sessions live in the database, so a server restart keeps them: runners carry
on where they were, and nothing is assigned twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import utcnow
from projectw.db.models import Runner
from projectw.errors import Forbidden, Unauthorized
from projectw.jobs import events
from projectw.jobs.queue.assign import assign_jobs
from projectw.jobs.queue.changes import QueueChanges
from projectw.jobs.queue.leases import (
    ACTIVE,
    HELD_COLUMNS,
    JOBS,
    RUNNERS,
    HeldJob,
    close_session,
    held_job,
    update_job,
)
from projectw.jobs.queue.lock import queue_transaction
from projectw.jobs.queue.reaper import runners_changed
from projectw.protocol import HeartbeatRequest, RegisterRequest, RegisterResponse

if TYPE_CHECKING:
    from projectw.runtime import Runtime

TOKEN_PREFIX = "pwr_"
# How long after a renewal a heartbeat leaves the lease as it is.
RENEWAL_STEP = timedelta(seconds=1)


class RunnerSessionInvalid(Unauthorized):
    """The runner's session ended (it went offline or registered anew)."""

    code = "runner_session_invalid"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_runner_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def no_token() -> Unauthorized:
    """The refusal of a missing, unknown or revoked runner token."""
    return Unauthorized("The runner token is missing, unknown or revoked.")


def _by_token(token: str) -> ColumnElement[bool]:
    return and_(Runner.token_hash == hash_token(token), Runner.revoked_at.is_(None))


async def runner_by_token(session: AsyncSession, token: str | None) -> Runner:
    """The runner this token belongs to; 401 if unknown or revoked."""
    runner = await session.scalar(select(Runner).where(_by_token(token))) if token else None
    if runner is None:
        raise no_token()
    return runner


@dataclass(frozen=True)
class SessionRunner:
    """A runner with an open session, as its protocol calls need it."""

    id: int
    accepting_jobs: bool
    online_until: datetime | None


_BY_SESSION = (
    select(
        RUNNERS.c.id,
        RUNNERS.c.session_token_hash,
        RUNNERS.c.accepting_jobs,
        RUNNERS.c.online_until,
        *HELD_COLUMNS,
    )
    .select_from(
        RUNNERS.outerjoin(JOBS, and_(JOBS.c.runner_id == RUNNERS.c.id, JOBS.c.status.in_(ACTIVE)))
    )
    .where(RUNNERS.c.token_hash == bindparam("token_hash"), RUNNERS.c.revoked_at.is_(None))
    .order_by(JOBS.c.assigned_at, JOBS.c.id)
    .limit(1)
)


async def runner_by_session(
    session: AsyncSession, token: str | None, session_token: str | None
) -> tuple[SessionRunner, HeldJob | None]:
    """The runner whose open session this is, and the job it holds; 401 if no such session.

    One query for both: every protocol call needs them, and runners call often.
    """
    row = None
    if token:
        row = (await session.execute(_BY_SESSION, {"token_hash": hash_token(token)})).first()
    if row is None:
        raise no_token()
    runner_id, session_hash, accepting_jobs, online_until, *job = row
    if not session_token or session_hash != hash_token(session_token):
        raise RunnerSessionInvalid("This runner session is not open; register the runner again.")
    return SessionRunner(runner_id, accepting_jobs, online_until), held_job(job)


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
    async with queue_transaction(runtime.db, changes) as session:
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
        await runners_changed(session, now, lease, changes)
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
    async with queue_transaction(runtime.db, changes) as session:
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
        await runners_changed(session, now, runtime.queue.lease, changes)
    await changes.publish(runtime)


_RENEW = (
    update(RUNNERS)
    .where(RUNNERS.c.id == bindparam("runner_id"))
    .values(
        online_until=bindparam("online_until"),
        last_heartbeat_at=bindparam("now"),
        accepting_jobs=bindparam("accepting_jobs"),
    )
)


async def heartbeat(
    runtime: Runtime, token: str | None, session_token: str | None, request: HeartbeatRequest
) -> Beat:
    """Renew the runner's lease, record progress, hand it a job if it is free."""
    lease = runtime.queue.lease
    changes = QueueChanges()
    now = utcnow()
    online_until = now + lease
    async with queue_transaction(runtime.db, changes) as session:
        runner, job = await runner_by_session(session, token, session_token)
        # A lease renewed less than RENEWAL_STEP ago is not written again: a runner that
        # beats several times a second (a long poll answered early) costs one read each.
        renew = runner.online_until is None or runner.online_until < online_until - RENEWAL_STEP
        if renew or runner.accepting_jobs != request.accepting_jobs:
            await session.execute(
                _RENEW,
                {
                    "runner_id": runner.id,
                    "online_until": online_until,
                    "now": now,
                    "accepting_jobs": request.accepting_jobs,
                },
            )
        if job is not None:
            await _renew_job(
                runtime, session, job, request, online_until if renew else None, changes
            )
            beat = Beat(
                runner.id,
                job.abort_requested,
                job.id,
                job.status,
                job.settings if job.status == "assigned" else None,
            )
        else:
            beat = Beat(runner.id, False, None, None)
            if request.accepting_jobs:
                for made in await assign_jobs(session, now, lease, changes):
                    if made.runner.id == runner.id:
                        # The assignment gave the job the runner's lease.
                        beat = Beat(runner.id, False, made.job_id, "assigned", made.settings)
    await changes.publish(runtime)
    return beat


async def _renew_job(
    runtime: Runtime,
    session: AsyncSession,
    job: HeldJob,
    request: HeartbeatRequest,
    lease_expires_at: datetime | None,
    changes: QueueChanges,
) -> None:
    """Renew the lease of the runner's job (unless None) and record the progress it reports."""
    values: dict[str, Any] = {}
    if lease_expires_at is not None:
        values["lease_expires_at"] = lease_expires_at
    changed: dict[str, Any] = {}
    if job.status == "running" and not job.abort_requested:
        if request.stage is not None and request.stage != job.stage:
            values["stage"] = changed["stage"] = request.stage
        if request.progress != job.progress:
            values["progress"] = request.progress
            if changed or await events.progress_event_due(runtime.state, job.id):
                changed["progress"] = request.progress
    if values:
        await update_job(session, job.id, **values)
    if changed:
        changes.job_updated(job, **changed)


async def long_poll(
    runtime: Runtime,
    token: str | None,
    session_token: str | None,
    request: HeartbeatRequest,
    wait: float,
    gone: asyncio.Event | None = None,
) -> Beat:
    """A heartbeat that waits up to ``wait`` seconds for news: a new job or an abort.

    The wait is capped at half the lease, so a runner that long-polls never loses its lease.
    ``gone`` is set when the runner no longer waits for the answer (it hung up): the poll then
    ends without another heartbeat.
    """
    deadline = time.monotonic() + min(wait, runtime.queue.lease.total_seconds() / 2)
    while True:
        beat = await heartbeat(runtime, token, session_token, request)
        remaining = deadline - time.monotonic()
        news = beat.abort or beat.job_status == "assigned"
        if news or remaining <= 0 or runtime.stopping.is_set():
            return beat
        await runtime.queue.wait(beat.runner_id, beat.job_id, remaining, gone)
        if gone is not None and gone.is_set():
            return beat
