"""The job service: submit, look at, abort, delete and retry a user's jobs.

Every change is one transaction that also records the matching event; streams are woken after
the commit. Jobs of other users do not exist as far as this service is concerned (NotFound).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import utcnow
from projectw.db.models import Job, Runner, User
from projectw.errors import Conflict, InvalidInput, NotFound, ProjectWError
from projectw.jobs import events
from projectw.jobs.blobstore import BlobStore, mark_complete, release
from projectw.jobs.media import media_type_for, probe_media
from projectw.jobs.notify import finished_message
from projectw.jobs.queue import queue_position, unservable_reason
from projectw.jobs.settings import JobSettings, resolve_settings, validate_settings
from projectw.jobs.upload import ReceivedUpload
from projectw.jobs.views import FINISHED, JobView, event_payload, job_view

if TYPE_CHECKING:
    from projectw.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BULK_IDS = 500


@dataclass(frozen=True)
class BulkResult:
    """The outcome of one id in a bulk request."""

    id: int
    ok: bool
    code: str | None = None
    detail: str | None = None
    job: JobView | None = None


def _not_found(job_id: int) -> NotFound:
    return NotFound(f"There is no job {job_id}.")


async def owned_job(
    session: AsyncSession, user_id: int, job_id: int, *, for_update: bool = False
) -> Job:
    """The user's job, or NotFound (also for other users' jobs)."""
    query = select(Job).where(Job.id == job_id, Job.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    job = await session.scalar(query)
    if job is None:
        raise _not_found(job_id)
    return job


async def runner_name(session: AsyncSession, runner_id: int | None) -> str | None:
    if runner_id is None:
        return None
    runner = await session.get(Runner, runner_id)
    return (runner.registered_name or runner.name) if runner else None


class JobService:
    """A user's jobs, for the HTTP API and for anything else that acts for a user."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.db = runtime.db
        self.config = runtime.settings.jobs
        self.blobs = BlobStore(runtime.db, runtime.secret)

    # --- submitting --------------------------------------------------------------------------

    async def settings_for_upload(self, user_id: int, settings_json: str | None) -> JobSettings:
        """The settings a new job of this user runs with (request, user defaults, app)."""
        given: Any = None
        if settings_json is not None and settings_json.strip():
            try:
                given = json.loads(settings_json)
            except json.JSONDecodeError:
                raise InvalidInput("Field 'settings' is not valid JSON.") from None
        async with self.db.session() as session:
            user = await session.get(User, user_id)
            defaults = user.default_settings if user is not None else None
        return resolve_settings(given, defaults, self.config.default_model)

    async def submit(self, user_id: int, upload: ReceivedUpload) -> JobView:
        """Probe an uploaded file, store it encrypted and queue a job for it.

        A refused upload leaves nothing behind: no blob, no job (the caller removes the file).
        """
        settings = await self.settings_for_upload(user_id, upload.settings_json)
        async with self.db.session() as session:
            reason = await unservable_reason(session, settings.model_dump(mode="json"))
        if reason is not None:
            # Some runner is online but none can honour these settings: say so now rather
            # than queueing a job that would wait forever or fail later.
            raise InvalidInput(reason, code="not_servable")
        info = await asyncio.to_thread(probe_media, upload.path, self.config.max_duration_seconds)
        blob_id = await self.blobs.write_file(upload.path, "audio")
        try:
            async with self.db.write_session() as session, session.begin():
                await mark_complete(session, blob_id)
                stored_settings = settings.model_dump(mode="json")
                job = Job(
                    user_id=user_id,
                    status="queued",
                    settings=stored_settings,
                    file_name=upload.file_name,
                    content_type=media_type_for(info.container, upload.file_name),
                    size_bytes=upload.size,
                    duration_seconds=info.duration_seconds,
                    container=info.container,
                    codec=info.codec,
                    channels=info.channels,
                    sample_rate=info.sample_rate,
                    audio_blob_id=blob_id,
                    waiting_reason=await unservable_reason(session, stored_settings),
                )
                session.add(job)
                await session.flush()
                view = job_view(job)
                await self._created(session, job, view)
        except BaseException:
            await asyncio.shield(self.blobs.discard(blob_id))
            raise
        log.info(
            "job submitted",
            extra={"job_id": job.id, "user_id": user_id, "bytes": upload.size},
        )
        await events.wake(self.runtime.state, user_id)
        return await self.get(user_id, job.id)

    async def _created(self, session: AsyncSession, job: Job, view: JobView) -> None:
        await events.add_event(
            session,
            user_id=job.user_id,
            type=events.JOB_CREATED,
            job_id=job.id,
            payload=event_payload(view),
        )

    # --- looking -----------------------------------------------------------------------------

    async def get(self, user_id: int, job_id: int) -> JobView:
        """One job with its queue position and runner."""
        async with self.db.session() as session:
            job = await owned_job(session, user_id, job_id)
            position = await queue_position(session, job) if job.status == "queued" else None
            return job_view(job, await runner_name(session, job.runner_id), position)

    # --- acting ------------------------------------------------------------------------------

    async def abort(self, user_id: int, job_id: int) -> JobView:
        """Abort a job: a queued one at once, a running one by telling its runner."""
        async with self.db.write_session() as session, session.begin():
            job = await owned_job(session, user_id, job_id, for_update=True)
            if job.status in FINISHED:
                raise Conflict(f"Job {job_id} has already finished ({job.status}).")
            now = utcnow()
            changed: dict[str, Any]
            if job.status == "queued":
                job.status = "aborted"
                job.finished_at = now
                job.abort_requested = True
                job.waiting_reason = None
                job.error_code = "aborted"
                job.error_message = "Aborted by its owner before it started."
                changed = {
                    "status": "aborted",
                    "finished_at": now.isoformat(),
                    "abort_requested": True,
                    "waiting_reason": None,
                    "error_code": job.error_code,
                    "error_message": job.error_message,
                }
            else:
                job.abort_requested = True
                changed = {"abort_requested": True}
            await session.flush()
            await events.add_event(
                session, user_id=user_id, type=events.JOB_UPDATED, job_id=job_id, payload=changed
            )
        await events.wake(self.runtime.state, user_id)
        if job.status in FINISHED:
            await job_finished(self.runtime, job_id)
        return await self.get(user_id, job_id)

    async def delete(self, user_id: int, job_id: int) -> None:
        """Delete a finished job with its recording and transcript."""
        async with self.db.write_session() as session, session.begin():
            job = await owned_job(session, user_id, job_id, for_update=True)
            if job.status not in FINISHED:
                raise Conflict(f"Job {job_id} is still {job.status}; abort it before deleting it.")
            audio, transcript = job.audio_blob_id, job.transcript_blob_id
            await session.delete(job)
            await release(session, audio)
            await release(session, transcript)
            await events.add_event(
                session, user_id=user_id, type=events.JOB_DELETED, job_id=job_id, payload={}
            )
        await events.wake(self.runtime.state, user_id)

    async def retry(self, user_id: int, job_id: int) -> JobView:
        """A new job with the same recording and settings as a finished one."""
        async with self.db.write_session() as session, session.begin():
            job = await owned_job(session, user_id, job_id, for_update=True)
            if job.status not in FINISHED:
                raise Conflict(f"Job {job_id} is still {job.status}; only finished jobs retry.")
            if job.audio_blob_id is None:
                raise Conflict(
                    f"The recording of job {job_id} has been deleted, so it cannot be retried; "
                    "upload it again."
                )
            new = Job(
                user_id=user_id,
                status="queued",
                priority=job.priority,
                settings=job.settings,
                file_name=job.file_name,
                content_type=job.content_type,
                size_bytes=job.size_bytes,
                duration_seconds=job.duration_seconds,
                container=job.container,
                codec=job.codec,
                channels=job.channels,
                sample_rate=job.sample_rate,
                audio_blob_id=job.audio_blob_id,
                retry_of_id=job.id,
                waiting_reason=await unservable_reason(session, job.settings),
            )
            session.add(new)
            await session.flush()
            await self._created(session, new, job_view(new))
        await events.wake(self.runtime.state, user_id)
        return await self.get(user_id, new.id)

    async def bulk(
        self, user_id: int, job_ids: list[int], action: Callable[[int, int], Awaitable[Any]]
    ) -> list[BulkResult]:
        """Apply one action to many jobs; each id succeeds or fails on its own."""
        if len(job_ids) > MAX_BULK_IDS:
            raise InvalidInput(f"Field 'ids' may list at most {MAX_BULK_IDS} jobs.")
        results: list[BulkResult] = []
        for job_id in dict.fromkeys(job_ids):
            try:
                outcome = await action(user_id, job_id)
            except ProjectWError as exc:
                results.append(BulkResult(job_id, False, exc.code, exc.detail))
            else:
                view = outcome if isinstance(outcome, JobView) else None
                results.append(BulkResult(job_id, True, job=view))
        return results

    # --- default settings --------------------------------------------------------------------

    async def default_settings(self, user_id: int) -> JobSettings:
        """The user's default settings, or the application's."""
        async with self.db.session() as session:
            user = await session.get(User, user_id)
            stored = user.default_settings if user is not None else None
        return resolve_settings(None, stored, self.config.default_model)

    async def set_default_settings(self, user_id: int, given: dict[str, Any]) -> JobSettings:
        """Replace the user's default settings; missing fields take the application defaults."""
        settings = validate_settings({"model": self.config.default_model, **given})
        async with self.db.write_session() as session, session.begin():
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound("There is no such user.")
            user.default_settings = settings.model_dump(mode="json")
        return settings


async def job_finished(runtime: Runtime, job_id: int) -> None:
    """Side effects of a job reaching succeeded, failed or aborted: the e-mail it asked for."""
    async with runtime.db.session() as session:
        job = await session.get(Job, job_id)
        if job is None or job.status not in ("succeeded", "failed"):
            return
        if not job.settings.get("email_notification") or not runtime.mail.configured:
            return
        user = await session.get(User, job.user_id)
    if user is None:
        return
    async with runtime.db.session() as session, session.begin():
        runtime.mail.queue(session, user.email, finished_message(runtime.settings, job))
    runtime.mail.wake()
    log.info("job finished mail queued", extra={"job_id": job_id, "user_id": job.user_id})
