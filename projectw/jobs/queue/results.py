"""A runner's work on its job: the job's settings, its recording, and the result.

Fetching the recording marks the job running. A result finishes the job: its transcript is
stored as the canonical JSON (Project-W 0.6 runners send five rendered formats; their WhisperX
JSON is converted and the rest dropped, since every format is rendered from the canonical one).
A job whose abort was requested ends as aborted whatever the runner reports.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, update

from projectw.db.base import utcnow
from projectw.errors import Conflict, InvalidInput
from projectw.jobs.blobstore import (
    SMALL_BLOB_LIMIT,
    BlobInfo,
    BlobMissing,
    BlobStore,
    describe_in,
    mark_complete,
    sealed_chunk,
)
from projectw.jobs.media import media_type_for
from projectw.jobs.queue.assign import assign_jobs
from projectw.jobs.queue.changes import QueueChanges
from projectw.jobs.queue.leases import RUNNERS, HeldJob, finish, finish_aborted, update_job
from projectw.jobs.queue.lock import queue_transaction
from projectw.jobs.queue.sessions import runner_by_session
from projectw.protocol import JobInfoResponse, SubmitResultRequest, SubmitResultResponse
from projectw.transcripts.model import Transcript
from projectw.transcripts.whisperx_json import from_whisperx

if TYPE_CHECKING:
    from projectw.runtime import Runtime

log = logging.getLogger(__name__)

AUDIO_GONE = "The recording was deleted before it could be transcribed."


class NoJobAssigned(Conflict):
    """The runner holds no job (or not the one it reports on)."""

    code = "no_job_assigned"


def _no_job() -> NoJobAssigned:
    return NoJobAssigned("No job is assigned to this runner.")


async def job_info(
    runtime: Runtime, token: str | None, session_token: str | None
) -> JobInfoResponse:
    """The id and full settings of the runner's job."""
    async with runtime.db.session() as session:
        _runner, job = await runner_by_session(session, token, session_token)
        if job is None:
            raise _no_job()
        return JobInfoResponse(id=job.id, settings=job.settings)


@dataclass(frozen=True)
class AudioStream:
    job_id: int
    media_type: str
    size: int
    chunks: AsyncIterator[bytes]


def _media_type(job: HeldJob) -> str:
    for candidate in (job.content_type, media_type_for(job.container or "", job.file_name)):
        if candidate and candidate.split("/")[0] in ("audio", "video"):
            return candidate
    # Project-W 0.6 runners refuse anything not audio/* or video/*, and an upload is only
    # accepted when it has an audio stream.
    return "audio/octet-stream"


async def open_audio(runtime: Runtime, token: str | None, session_token: str | None) -> AudioStream:
    """Mark the runner's job running and stream its recording."""
    changes = QueueChanges()
    now = utcnow()
    blob: BlobInfo | None = None
    prefetched: dict[int, bytes] | None = None
    async with queue_transaction(runtime.db, changes) as session:
        _runner, job = await runner_by_session(session, token, session_token)
        if job is None:
            raise _no_job()
        if job.audio_blob_id is not None:
            with contextlib.suppress(BlobMissing):
                blob = await describe_in(session, job.audio_blob_id)
        if blob is not None and blob.chunk_count == 1:
            # A short recording is read here whole, saving the stream a session of its own.
            first = await sealed_chunk(session, blob.id, 0)
            prefetched = {0: first} if first is not None else None
        if blob is None:
            await finish(
                session,
                job,
                "failed",
                now,
                changes,
                error_code="audio_unavailable",
                error_message=AUDIO_GONE,
            )
        elif job.status == "assigned":
            await update_job(session, job.id, status="running", started_at=now)
            changes.job_updated(job, status="running", started_at=now)
    await changes.publish(runtime)
    if blob is None:
        raise Conflict(AUDIO_GONE, code="audio_unavailable")
    store = BlobStore(runtime.db, runtime.secret)
    chunks = store.read(blob.id, blob=blob, prefetched=prefetched)
    return AudioStream(job.id, _media_type(job), blob.size, chunks)


def _transcript_of(request: SubmitResultRequest) -> tuple[Transcript | None, str | None]:
    """The canonical transcript of a result, or why it could not be read."""
    if request.result is not None:
        return request.result, None
    if request.transcript is not None:
        try:
            return from_whisperx(request.transcript.as_json), None
        except InvalidInput as exc:
            return None, exc.detail
    return None, None


async def _job_duration(
    runtime: Runtime, token: str | None, session_token: str | None, request: SubmitResultRequest
) -> float | None:
    async with runtime.db.session() as session:
        _runner, job = await runner_by_session(session, token, session_token)
        if job is None or (request.job_id is not None and request.job_id != job.id):
            raise _no_job()
        return job.duration_seconds


_COUNT_SUCCESS = (
    update(RUNNERS)
    .where(RUNNERS.c.id == bindparam("runner_id"))
    .values(jobs_succeeded=RUNNERS.c.jobs_succeeded + 1)
)
_COUNT_FAILURE = (
    update(RUNNERS)
    .where(RUNNERS.c.id == bindparam("runner_id"))
    .values(jobs_failed=RUNNERS.c.jobs_failed + 1)
)


async def submit_result(
    runtime: Runtime, token: str | None, session_token: str | None, request: SubmitResultRequest
) -> SubmitResultResponse:
    """Finish the runner's job with its result; the answer names the runner's next job."""
    transcript, unreadable = (
        (None, None) if request.error_msg is not None else _transcript_of(request)
    )
    store = BlobStore(runtime.db, runtime.secret)
    data: bytes | None = None
    if transcript is not None:
        if transcript.duration is None:
            duration = await _job_duration(runtime, token, session_token, request)
            if duration is not None:
                transcript = transcript.model_copy(update={"duration": duration})
        data = transcript.model_dump_json().encode()
    written: int | None = None
    if data is not None and len(data) > SMALL_BLOB_LIMIT:
        # Written before the queue lock is taken: storing a long transcript takes a while.
        written = await store.write_bytes(data, "transcript")
    # The pre-written blob stays only if the transaction that references it commits.
    referenced = committed = False
    changes = QueueChanges()
    now = utcnow()
    try:
        async with queue_transaction(runtime.db, changes) as session:
            runner, job = await runner_by_session(session, token, session_token)
            if job is None or (request.job_id is not None and request.job_id != job.id):
                raise _no_job()
            if job.abort_requested:
                await finish_aborted(session, job, now, changes)
                outcome = "aborted"
            elif data is None:
                message = request.error_msg or (
                    f"The runner returned a transcript that could not be read: {unreadable}"
                )
                code = request.error_code or ("bad_result" if unreadable else "runner_error")
                await finish(
                    session, job, "failed", now, changes, error_code=code, error_message=message
                )
                await session.execute(_COUNT_FAILURE, {"runner_id": runner.id})
                outcome = "failed"
            else:
                if written is None:
                    blob_id = await store.write_small(session, data, "transcript")
                else:
                    await mark_complete(session, written)
                    blob_id, referenced = written, True
                await finish(session, job, "succeeded", now, changes, transcript_blob_id=blob_id)
                await session.execute(_COUNT_SUCCESS, {"runner_id": runner.id})
                outcome = "succeeded"
            next_job = None
            if runner.accepting_jobs:
                for made in await assign_jobs(session, now, runtime.queue.lease, changes):
                    if made.runner.id == runner.id:
                        next_job = JobInfoResponse(id=made.job_id, settings=made.settings)
        committed = True
    finally:
        if written is not None and not (referenced and committed):
            await store.discard(written)
    await changes.publish(runtime)
    log.info("job finished", extra={"job_id": job.id, "status": outcome, "runner_id": runner.id})
    return SubmitResultResponse(detail=f"Job {job.id} {outcome}.", next_job=next_job)
