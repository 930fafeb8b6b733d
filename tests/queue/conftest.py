"""Fixtures of the scheduler tests: a running Runtime, users, jobs and runners made directly."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from projectw.config import Settings
from projectw.db.base import utcnow
from projectw.db.models import Job, Runner, User
from projectw.jobs.blobstore import BlobStore, mark_complete
from projectw.jobs.queue import registry, sessions
from projectw.jobs.service import JobService
from projectw.jobs.settings import validate_settings
from projectw.protocol import HeartbeatRequest, RegisterRequest
from projectw.runner.engines.base import Capabilities
from projectw.runtime import Runtime


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A started Runtime on a fresh database (SQLite and PostgreSQL)."""
    started = await Runtime.start(settings)
    try:
        yield started
    finally:
        await started.stop()


async def make_user(runtime: Runtime) -> int:
    async with runtime.db.session() as session, session.begin():
        user = User(email=f"{secrets.token_hex(5)}@example.org")
        session.add(user)
    return user.id


def job_settings(**overrides: Any) -> dict[str, Any]:
    """Full job settings (Project-W 0.6 names) with these fields changed."""
    return validate_settings({"model": "small", **overrides}).model_dump(mode="json")


async def add_job(
    runtime: Runtime,
    user_id: int,
    *,
    priority: int = 0,
    created_at: datetime | None = None,
    audio: bytes = b"RIFF-not-really-audio",
    **settings: Any,
) -> int:
    """A queued job with a stored (encrypted) recording, as an upload would leave it."""
    blob_id = await BlobStore(runtime.db, runtime.secret).write_bytes(audio, "audio")
    async with runtime.db.session() as session, session.begin():
        job = Job(
            user_id=user_id,
            status="queued",
            priority=priority,
            settings=job_settings(**settings),
            file_name="recording.wav",
            content_type="audio/wav",
            size_bytes=len(audio),
            duration_seconds=3.0,
            audio_blob_id=blob_id,
            created_at=created_at or utcnow(),
        )
        session.add(job)
        await mark_complete(session, blob_id)
    return job.id


@dataclass
class FakeRunner:
    """A runner driven directly through the queue services (no HTTP)."""

    runtime: Runtime
    id: int
    token: str
    session_token: str | None = None

    async def register(
        self, priority: int = 100, capabilities: Capabilities | None = None, name: str = "r"
    ) -> None:
        answer = await sessions.register(
            self.runtime,
            self.token,
            RegisterRequest(
                name=name,
                version="1",
                git_hash="abc",
                source_code_url="https://example.org",
                priority=priority,
                capabilities=capabilities,
            ),
        )
        self.session_token = answer.session_token

    async def beat(self, **fields: Any) -> sessions.Beat:
        return await sessions.heartbeat(
            self.runtime, self.token, self.session_token, HeartbeatRequest(**fields)
        )


async def add_runner(
    runtime: Runtime,
    priority: int = 100,
    capabilities: Capabilities | None = None,
    *,
    register: bool = True,
) -> FakeRunner:
    runner, token = await registry.create_runner(runtime.db, f"runner-{secrets.token_hex(3)}")
    fake = FakeRunner(runtime, runner.id, token)
    if register:
        await fake.register(priority, capabilities)
    return fake


async def job_row(runtime: Runtime, job_id: int) -> Job:
    async with runtime.db.session() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


async def runner_row(runtime: Runtime, runner_id: int) -> Runner:
    async with runtime.db.session() as session:
        runner = await session.get(Runner, runner_id)
    assert runner is not None
    return runner


async def expire_runner(runtime: Runtime, runner_id: int) -> None:
    """Make a runner's lease (and its job's) run out, as if it had stopped heartbeating."""
    past = utcnow() - timedelta(seconds=1)
    async with runtime.db.session() as session, session.begin():
        await session.execute(
            update(Runner).where(Runner.id == runner_id).values(online_until=past)
        )
        await session.execute(
            update(Job).where(Job.runner_id == runner_id).values(lease_expires_at=past)
        )


async def request_abort(runtime: Runtime, job_id: int) -> None:
    """The job's owner aborts it through the jobs service, as the API does."""
    job = await job_row(runtime, job_id)
    await JobService(runtime).abort(job.user_id, job_id)
