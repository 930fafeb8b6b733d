"""Runner presence and job leases: who is online, which job a runner holds, taking it back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.models import Job, Runner
from projectw.jobs.queue.changes import QueueChanges

ACTIVE = ("assigned", "running")

ABORTED_MESSAGE = "The job was aborted."


def is_online(now: datetime) -> list[ColumnElement[bool]]:
    """Conditions of a runner that is online now."""
    return [
        Runner.session_token_hash.is_not(None),
        Runner.online_until > now,
        Runner.revoked_at.is_(None),
    ]


async def online_runners(session: AsyncSession, now: datetime) -> list[Runner]:
    rows = await session.scalars(
        select(Runner).where(*is_online(now)).order_by(Runner.priority.desc(), Runner.id)
    )
    return list(rows)


async def active_job(session: AsyncSession, runner_id: int) -> Job | None:
    """The job a runner holds (assigned or running), if any."""
    return await session.scalar(
        select(Job)
        .where(Job.runner_id == runner_id, Job.status.in_(ACTIVE))
        .order_by(Job.assigned_at, Job.id)
        .limit(1)
    )


def lost_runner_message(attempts: int) -> str:
    return (
        f"The runner working on this job stopped responding {attempts} times in a row; the job "
        "may be crashing runners, so it is not tried again."
    )


async def finish(
    session: AsyncSession,
    job: Job,
    status: str,
    now: datetime,
    changes: QueueChanges,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    """Put a job into a final state (succeeded, failed or aborted)."""
    job.status = status
    job.finished_at = now
    job.lease_expires_at = None
    job.stage = None
    job.waiting_reason = None
    fields: dict[str, Any] = {"status": status, "finished_at": now, "stage": None}
    if status == "succeeded":
        job.progress = 100.0
        fields.update(progress=100.0, transcript_available=job.transcript_blob_id is not None)
    if error_code is not None or error_message is not None:
        job.error_code = error_code
        job.error_message = error_message
        fields.update(error_code=error_code, error_message=error_message)
    await changes.job_updated(session, job, **fields)


async def requeue(session: AsyncSession, job: Job, changes: QueueChanges) -> None:
    """Put a job back in the queue, ready for any runner."""
    job.status = "queued"
    job.runner_id = None
    job.lease_expires_at = None
    job.assigned_at = None
    job.started_at = None
    job.stage = None
    job.progress = 0.0
    await changes.job_updated(
        session,
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
    job: Job,
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
        await finish(
            session,
            job,
            "aborted",
            now,
            changes,
            error_code="aborted",
            error_message=ABORTED_MESSAGE,
        )
        return
    if count_attempt:
        job.attempts += 1
        if job.attempts >= max_attempts:
            await finish(
                session,
                job,
                "failed",
                now,
                changes,
                error_code="runner_lost",
                error_message=lost_runner_message(job.attempts),
            )
            return
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
    count_attempt: Callable[[Job], bool],
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
