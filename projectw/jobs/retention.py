"""Retention: recordings, then jobs with their transcripts, are deleted after set periods.

Periods count from when a job finished; unfinished jobs are never touched. A recording shared
with a retry survives until no job references it. Old events, blobs whose writer died, blobs
left without a job (a deleted account's) and temporary upload files left by a crash are swept
too. Every step is idempotent, so any
number of server instances may run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import utcnow
from projectw.db.models import Job
from projectw.jobs import events
from projectw.jobs.blobstore import delete_abandoned, delete_unreferenced, release
from projectw.jobs.views import FINISHED

if TYPE_CHECKING:
    from projectw.runtime import Runtime

log = logging.getLogger(__name__)

# An upload in progress writes its blob for minutes at most; older unfinished blobs are dead.
ABANDONED_AFTER = timedelta(hours=6)
# Jobs handled per transaction, so a large backlog never holds the write lock for long.
_BATCH = 100


@dataclass
class RetentionReport:
    audio_deleted: int = 0
    jobs_deleted: int = 0
    events_pruned: int = 0
    blobs_swept: int = 0
    files_swept: int = 0


async def _in_batches(
    runtime: Runtime,
    conditions: Sequence[ColumnElement[bool]],
    act: Callable[[AsyncSession, Job], Awaitable[None]],
) -> int:
    """Apply ``act`` to every job matching ``conditions``, a batch per transaction.

    ``act`` must make the job stop matching; the users concerned are woken after each batch.
    """
    handled = 0
    while True:
        async with runtime.db.write_session() as session, session.begin():
            jobs = list(await session.scalars(select(Job).where(*conditions).limit(_BATCH)))
            users = {job.user_id for job in jobs}
            for job in jobs:
                await act(session, job)
        for user_id in users:
            await events.wake(runtime.state, user_id)
        handled += len(jobs)
        if len(jobs) < _BATCH:
            return handled


async def _delete_audio(runtime: Runtime, cutoff_days: float) -> int:
    cutoff = utcnow() - timedelta(days=cutoff_days)

    async def drop_audio(session: AsyncSession, job: Job) -> None:
        now = utcnow()
        blob_id, job.audio_blob_id, job.audio_deleted_at = job.audio_blob_id, None, now
        await release(session, blob_id)
        await events.add_event(
            session,
            user_id=job.user_id,
            type=events.JOB_UPDATED,
            job_id=job.id,
            payload={"audio_available": False, "audio_deleted_at": now.isoformat()},
        )

    finished_with_audio = [
        Job.status.in_(FINISHED),
        Job.finished_at < cutoff,
        Job.audio_blob_id.is_not(None),
    ]
    return await _in_batches(runtime, finished_with_audio, drop_audio)


async def _delete_jobs(runtime: Runtime, cutoff_days: float) -> int:
    cutoff = utcnow() - timedelta(days=cutoff_days)

    async def drop_job(session: AsyncSession, job: Job) -> None:
        blobs = (job.audio_blob_id, job.transcript_blob_id)
        await session.delete(job)
        for blob_id in blobs:
            await release(session, blob_id)
        await events.add_event(
            session, user_id=job.user_id, type=events.JOB_DELETED, job_id=job.id, payload={}
        )

    finished = [Job.status.in_(FINISHED), Job.finished_at < cutoff]
    return await _in_batches(runtime, finished, drop_job)


def _sweep_upload_files(tmp_dir: Path, older_than: timedelta) -> int:
    limit = time.time() - older_than.total_seconds()
    swept = 0
    for path in tmp_dir.glob("upload-*.part"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                swept += 1
        except FileNotFoundError:
            continue
    return swept


async def apply_retention(runtime: Runtime) -> RetentionReport:
    """One clean-up pass with the configured periods."""
    config = runtime.settings.jobs
    report = RetentionReport()
    if config.job_retention_days is not None:
        report.jobs_deleted = await _delete_jobs(runtime, config.job_retention_days)
    if config.audio_retention_days is not None:
        report.audio_deleted = await _delete_audio(runtime, config.audio_retention_days)
    report.events_pruned = await events.prune_events(
        runtime.db, timedelta(hours=config.event_retention_hours)
    )
    report.blobs_swept = await delete_abandoned(runtime.db, ABANDONED_AFTER)
    report.blobs_swept += await delete_unreferenced(runtime.db)
    report.files_swept = _sweep_upload_files(runtime.settings.paths.tmp_dir, ABANDONED_AFTER)
    if any(vars(report).values()):
        log.info("retention applied", extra=vars(report))
    return report


def start_retention(runtime: Runtime) -> None:
    """Run the clean-up periodically for as long as the runtime runs.

    The first pass waits one interval: start-up is busy enough (migrations, sign-ins), and
    nothing expires in the first minutes of a server's life that cannot wait.
    """
    interval = runtime.settings.jobs.cleanup_interval_seconds

    async def run() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.stopping.wait(), interval)
        if not runtime.stopping.is_set():
            runtime.every("job-retention", interval, lambda: _pass(runtime))

    runtime.spawn("job-retention-start", run)


async def _pass(runtime: Runtime) -> None:
    await apply_retention(runtime)
