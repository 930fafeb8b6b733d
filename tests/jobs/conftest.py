"""Fixtures of the jobs tests: a migrated database with users, a blob store."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from projectw.config import Settings
from projectw.db import migrate
from projectw.db.engine import Database
from projectw.db.models import User
from projectw.jobs.blobstore import BlobStore
from projectw.runtime import Runtime
from tests.conftest import Account, create_account, make_settings


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database (SQLite and PostgreSQL)."""
    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


async def create_user(db: Database, email: str | None = None) -> int:
    """A user row made directly in the database (no accounts service needed)."""
    async with db.session() as session, session.begin():
        user = User(email=email or f"{secrets.token_hex(4)}@example.org")
        session.add(user)
    return user.id


@pytest.fixture
async def user_id(db: Database) -> int:
    return await create_user(db)


@pytest.fixture
def secret() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def store(db: Database, secret: bytes) -> BlobStore:
    """A blob store with small chunks, so that multi-chunk cases stay small."""
    return BlobStore(db, secret, chunk_size=1000)


# Small limits, so that refusing a too large or too long upload needs only small files.
TEST_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
TEST_MAX_DURATION_SECONDS = 60


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path / "data",
        database_url,
        jobs={
            "max_upload_bytes": TEST_MAX_UPLOAD_BYTES,
            "max_duration_seconds": TEST_MAX_DURATION_SECONDS,
        },
    )


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    """The app served over real HTTP on loopback, for streaming responses.

    httpx's in-process ASGI transport hands over a response only once it is complete, which a
    never-ending event stream never is.
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def upload(
    client: httpx.AsyncClient,
    path: Path,
    settings: dict[str, object] | str | None = None,
    file_name: str | None = None,
) -> httpx.Response:
    """POST /api/jobs with a file and optional settings."""
    data: dict[str, str] = {}
    if settings is not None:
        data["settings"] = settings if isinstance(settings, str) else json.dumps(settings)
    with path.open("rb") as handle:
        return await client.post(
            "/api/jobs", files={"file": (file_name or path.name, handle)}, data=data
        )


async def signed_up_account(app: FastAPI, display_name: str = "Ada") -> Account:
    # The shared account fixture reads and then writes in one deferred SQLite transaction,
    # which SQLite refuses at once ("database is locked") when a background task of the
    # starting server commits in between; a fresh attempt is then correct.
    for _attempt in range(5):
        try:
            return await create_account(app, display_name=display_name)
        except OperationalError:
            await asyncio.sleep(0.2)
    return await create_account(app, display_name=display_name)


@pytest.fixture
async def user_account(app: FastAPI) -> Account:
    return await signed_up_account(app, "Ada")


@pytest.fixture
async def other_user_account(app: FastAPI) -> Account:
    return await signed_up_account(app, "Bob")
