"""Runner presence and job leases: who is online, which job a runner holds, taking it back.

Jobs are read and changed with Core statements on the tables, not through the ORM: runners
call often, and loading and flushing whole Job objects cost more than the queries themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.models import Job, Runner
from projectw.jobs.queue.changes import QueueChanges

ACTIVE = ("assigned", "running")

ABORTED_MESSAGE = "The job was aborted."

JOBS = cast(Table, Job.__table__)
RUNNERS = cast(Table, Runner.__table__)


@dataclass(frozen=True)
class HeldJob:
    """The fields of a job that the queue acts on."""

    id: int
    user_id: int
    status: str
    abort_requested: bool
    attempts: int
    stage: str | None
    progress: float
    settings: dict[str, Any]
    duration_seconds: float | None
    audio_blob_id: int | None
    content_type: str | None
    container: str | None
    file_name: str

    @property
    def wants_mail(self) -> bool:
        """Whether the job asked for an e-mail when it finishes."""
        return bool(self.settings.get("email_notification"))


# The columns of HeldJob, in its field order.
HELD_COLUMNS = tuple(JOBS.c[name] for name in HeldJob.__dataclass_fields__)


def held_job(row: Row[Any] | Sequence[Any]) -> HeldJob | None:
    """A HeldJob from HELD_COLUMNS values; None when they are all NULL (an outer join)."""
    if row[0] is None:
        return None
    return HeldJob(*row)


def is_online(now: Any) -> list[ColumnElement[bool]]:
    """Conditions of a runner that is online at ``now`` (a datetime or a bound parameter)."""
    return [
        RUNNERS.c.session_token_hash.is_not(None),
        RUNNERS.c.online_until > now,
        RUNNERS.c.revoked_at.is_(None),
    ]


async def online_runners(session: AsyncSession, now: datetime) -> list[Runner]:
    rows = await session.scalars(
        select(Runner).where(*is_online(now)).order_by(Runner.priority.desc(), Runner.id)
    )
    return list(rows)


_ACTIVE_JOB = (
    select(*HELD_COLUMNS)
    .where(JOBS.c.runner_id == bindparam("runner_id"))
    .where(JOBS.c.status.in_(ACTIVE))
    .order_by(JOBS.c.assigned_at, JOBS.c.id)
    .limit(1)
)


async def active_job(session: AsyncSession, runner_id: int) -> HeldJob | None:
    """The job a runner holds (assigned or running), if any."""
    row = (await session.execute(_ACTIVE_JOB, {"runner_id": runner_id})).first()
    return held_job(row) if row is not None else None


async def update_job(session: AsyncSession, job_id: int, **values: Any) -> None:
    """Set columns of one job (``updated_at`` follows on its own)."""
    await session.execute(update(JOBS).where(JOBS.c.id == job_id).values(**values))


def lost_runner_message(attempts: int) -> str:
    return (
        f"The runner working on this job stopped responding {attempts} times in a row; the job "
        "may be crashing runners, so it is not tried again."
    )


async def finish(
    session: AsyncSession,
    job: HeldJob,
    status: str,
    now: datetime,
    changes: QueueChanges,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
    transcript_blob_id: int | None = None,
    attempts: int | None = None,
) -> None:
    """Put a job into a final state (succeeded, failed or aborted)."""
    values: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "lease_expires_at": None,
        "stage": None,
        "waiting_reason": None,
    }
    fields: dict[str, Any] = {"status": status, "finished_at": now, "stage": None}
    if status == "succeeded":
        values.update(progress=100.0, transcript_blob_id=transcript_blob_id)
        fields.update(progress=100.0, transcript_available=transcript_blob_id is not None)
    if error_code is not None or error_message is not None:
        values.update(error_code=error_code, error_message=error_message)
        fields.update(error_code=error_code, error_message=error_message)
    if attempts is not None:
        values["attempts"] = attempts
    await update_job(session, job.id, **values)
    changes.job_updated(job, **fields)


async def finish_aborted(
    session: AsyncSession, job: HeldJob, now: datetime, changes: QueueChanges
) -> None:
    """End a job whose abort was requested, whatever its runner did with it."""
    await finish(
        session, job, "aborted", now, changes, error_code="aborted", error_message=ABORTED_MESSAGE
    )


async def requeue(session: AsyncSession, job: HeldJob, changes: QueueChanges) -> None:
    """Put a job back in the queue, ready for any runner."""
    await update_job(
        session,
        job.id,
        status="queued",
        runner_id=None,
        lease_expires_at=None,
        assigned_at=None,
        started_at=None,
        stage=None,
        progress=0.0,
        attempts=job.attempts,
    )
    changes.job_updated(
        job,
        status="queued",
        runner_id=None,
        runner_name=None,
        assigned_at=None,
        started_at=None,
        stage=None,
        progress=0.0,
        attempts=job.attempts,
    )


async def release(
    session: AsyncSession,
    job: HeldJob,
    now: datetime,
    changes: QueueChanges,
    *,
    count_attempt: bool,
    max_attempts: int,
) -> None:
    """Take a job back from its runner.

    An aborted job ends; otherwise it is queued again, and ``count_attempt`` (the runner was
    lost while holding it) counts towards ``max_attempts``, after which the job fails.
    """
    if job.abort_requested:
        await finish_aborted(session, job, now, changes)
        return
    if count_attempt:
        attempts = job.attempts + 1
        if attempts >= max_attempts:
            await finish(
                session,
                job,
                "failed",
                now,
                changes,
                error_code="runner_lost",
                error_message=lost_runner_message(attempts),
                attempts=attempts,
            )
            return
        job = replace(job, attempts=attempts)
    await requeue(session, job, changes)


def end_session(runner: Runner) -> None:
    """Mark a runner offline."""
    runner.session_token_hash = None
    runner.session_started_at = None
    runner.online_until = None
    runner.accepting_jobs = True


async def close_session(
    session: AsyncSession,
    runner: Runner,
    now: datetime,
    changes: QueueChanges,
    *,
    count_attempt: Callable[[HeldJob], bool],
    max_attempts: int,
) -> None:
    """Hand the runner's job (if any) back to the queue and mark the runner offline.

    ``count_attempt`` decides, for the job held, whether the runner's loss is charged to it.
    """
    held = await active_job(session, runner.id)
    if held is not None:
        await release(
            session,
            held,
            now,
            changes,
            count_attempt=count_attempt(held),
            max_attempts=max_attempts,
        )
    end_session(runner)
