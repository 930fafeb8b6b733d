"""Fixtures of the jobs tests: a migrated database with users, a blob store."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from projectw.db import migrate
from projectw.db.engine import Database
from projectw.db.models import User
from projectw.jobs.blobstore import BlobStore
from tests.media import MediaFactory


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


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFactory:
    """Real recordings made with espeak-ng and ffmpeg, once per test session."""
    return MediaFactory(tmp_path_factory.mktemp("media"))
