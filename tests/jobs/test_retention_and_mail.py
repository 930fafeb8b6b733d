"""Retention of recordings and jobs; the e-mail a finished job asked for (real SMTP server)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from projectw.app import create_app
from projectw.db.base import utcnow
from projectw.db.models import Blob, Event, Job, User
from projectw.jobs.retention import apply_retention
from projectw.jobs.service import job_finished
from projectw.runtime import Runtime
from tests.auth.conftest import Inbox, mail_server
from tests.conftest import Account, make_settings, signed_in_client
from tests.jobs.conftest import signed_up_account, upload
from tests.jobs.test_api_actions import set_job
from tests.media import MediaFactory


async def _submit(client: httpx.AsyncClient, media: MediaFactory, **settings: object) -> int:
    response = await upload(client, media.path("wav"), settings=settings or None)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _finished(
    runtime: Runtime, job_id: int, days_ago: float, status: str = "succeeded"
) -> None:
    await set_job(runtime, job_id, status=status, finished_at=utcnow() - timedelta(days=days_ago))


async def _blobs(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Blob)) or 0)


async def test_recordings_then_jobs_are_deleted_after_their_periods(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    assert runtime.settings.jobs.audio_retention_days == 7
    assert runtime.settings.jobs.job_retention_days == 90
    recent = await _submit(user_client, media)
    await _finished(runtime, recent, days_ago=1)
    audio_expired = await _submit(user_client, media)
    await _finished(runtime, audio_expired, days_ago=10, status="failed")
    expired = await _submit(user_client, media)
    await _finished(runtime, expired, days_ago=100)
    waiting = await _submit(user_client, media)
    await set_job(runtime, waiting, created_at=utcnow() - timedelta(days=365))
    assert await _blobs(runtime) == 4

    report = await apply_retention(runtime)
    assert (report.audio_deleted, report.jobs_deleted) == (1, 1)
    assert await _blobs(runtime) == 2

    kept = (await user_client.get(f"/api/jobs/{audio_expired}")).json()
    assert kept["audio_available"] is False
    assert kept["audio_deleted_at"] is not None
    assert (await user_client.get(f"/api/jobs/{audio_expired}/audio")).status_code == 404
    assert (await user_client.get(f"/api/jobs/{expired}")).status_code == 404
    assert (await user_client.get(f"/api/jobs/{recent}")).json()["audio_available"] is True
    assert (await user_client.get(f"/api/jobs/{waiting}")).json()["audio_available"] is True

    async with runtime.db.session() as session:
        kinds = {
            (row.job_id, row.type, tuple(sorted(row.payload)))
            for row in await session.scalars(select(Event).where(Event.type != "job_created"))
        }
    assert kinds == {
        (audio_expired, "job_updated", ("audio_available", "audio_deleted_at")),
        (expired, "job_deleted", ()),
    }
    again = await apply_retention(runtime)
    assert (again.audio_deleted, again.jobs_deleted) == (0, 0)


async def test_a_retry_keeps_the_shared_recording(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    original = await _submit(user_client, media)
    await set_job(runtime, original, status="failed", finished_at=utcnow())
    retry = (await user_client.post(f"/api/jobs/{original}/retry")).json()["id"]
    await _finished(runtime, original, days_ago=30, status="failed")
    await apply_retention(runtime)
    assert (await user_client.get(f"/api/jobs/{original}")).json()["audio_available"] is False
    assert (await user_client.get(f"/api/jobs/{retry}/audio")).status_code == 200
    assert await _blobs(runtime) == 1


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with mail_server() as server:
        yield server


async def test_null_periods_keep_everything_and_finished_jobs_send_the_mail_asked_for(
    tmp_path: Path, database_url: str, inbox: Inbox, media: MediaFactory
) -> None:
    settings = make_settings(
        tmp_path / "data",
        database_url,
        smtp=inbox.smtp_settings(),
        jobs={"audio_retention_days": None, "job_retention_days": None},
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        runtime: Runtime = app.state.runtime
        account = await signed_up_account(app)
        async with signed_in_client(app, account) as client:
            notified = await _submit(client, media, email_notification=True)
            failed = await _submit(client, media, email_notification=True)
            aborted = await _submit(client, media, email_notification=True)
            silent = await _submit(client, media)
            await _finished(runtime, notified, days_ago=1000)
            await set_job(runtime, failed, error_message="The model ran out of memory.")
            await _finished(runtime, failed, days_ago=1000, status="failed")
            await client.post(f"/api/jobs/{aborted}/abort")
            await _finished(runtime, silent, days_ago=1000)
            for job_id in (notified, failed, aborted, silent):
                await job_finished(runtime, job_id)

            success = await inbox.wait_for(account.email)
            failure = await inbox.wait_for(account.email)
            by_subject = {m.message["Subject"]: m for m in (success, failure)}
            name = media.path("wav").name
            assert set(by_subject) == {
                f"Transcript ready: {name}",
                f"Transcription failed: {name}",
            }
            assert (
                "The model ran out of memory." in by_subject[f"Transcription failed: {name}"].text
            )
            assert f"The transcription of {name} has finished." in (success.text + failure.text)

            report = await apply_retention(runtime)
            assert (report.audio_deleted, report.jobs_deleted) == (0, 0)
            assert (await client.get("/api/jobs")).json()["total"] == 4
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Job)) == 4
    assert inbox.messages == []


async def test_recordings_of_a_deleted_account_and_stale_upload_files_are_swept(
    user_client: httpx.AsyncClient,
    runtime: Runtime,
    media: MediaFactory,
    user_account: Account,
) -> None:
    await _submit(user_client, media)
    await _submit(user_client, media)
    async with runtime.db.session() as session, session.begin():
        user = await session.get(User, user_account.id)
        assert user is not None
        await session.delete(user)
    assert await _blobs(runtime) == 2
    stale = runtime.settings.paths.tmp_dir / "upload-crashed.part"
    stale.write_bytes(b"left by a crash")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    fresh = runtime.settings.paths.tmp_dir / "upload-in-progress.part"
    fresh.write_bytes(b"being received")

    report = await apply_retention(runtime)
    assert (report.blobs_swept, report.files_swept) == (2, 1)
    assert await _blobs(runtime) == 0
    assert not stale.exists()
    assert fresh.exists()
