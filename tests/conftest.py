"""Shared fixtures: real SQLite and PostgreSQL databases, settings, an in-process app client."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from projectw.app import create_app
from projectw.auth.admin import AdminUserService
from projectw.auth.sessions import start_session
from projectw.config import Settings
from projectw.db.models import User
from tests.media import MediaFactory

POSTGRES_URL = os.environ.get(
    "PW_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's config, data dir or PROJECTW_* variables."""
    for name in list(os.environ):
        if name.startswith("PROJECTW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresDatabases:
    """Creates a fresh database per test on the real PostgreSQL server, drops it afterwards."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    async def create(self) -> str:
        name = f"pw_test_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(_asyncpg_dsn(self.admin_url))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    async def drop(self, url: str) -> None:
        name = make_url(url).database
        connection = await asyncpg.connect(_asyncpg_dsn(self.admin_url))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture(scope="session")
def postgres() -> PostgresDatabases:
    return PostgresDatabases(POSTGRES_URL)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: PostgresDatabases
) -> AsyncIterator[str]:
    """A fresh, empty database URL: every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    url = await postgres.create()
    try:
        yield url
    finally:
        await postgres.drop(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


def make_settings(data_dir: Path, database_url: str | None = None, **overrides: object) -> Settings:
    """Settings for a test server in ``data_dir``; the embedded runner is off unless asked."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": secrets.token_urlsafe(40),
        "runner": {"embedded": False},
        "shutdown_timeout": 5,
    }
    values.update(overrides)
    # Tests hash passwords at the lowest argon2 cost (a documented test-only setting).
    auth = values.get("auth")
    if auth is None or isinstance(auth, dict):
        values["auth"] = {"fast_password_hashing_for_tests": True, **(auth or {})}
    return Settings.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    path.mkdir()
    yield path


# --- accounts: users signed in through the account services ---------------------------------

TEST_PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    """A user created for a test, with a live session token."""

    id: int
    email: str
    password: str
    token: str


async def create_account(
    app: FastAPI,
    email: str | None = None,
    *,
    password: str = TEST_PASSWORD,
    admin: bool = False,
    verified: bool = True,
    accept_tos: bool = True,
    display_name: str | None = None,
) -> Account:
    """Create a user through the admin service and sign them in (no HTTP, no rate limits).

    By default the user has a confirmed address and accepted the current terms, so they may
    submit work.
    """
    runtime = app.state.runtime
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.org"
    service = AdminUserService(runtime.db, runtime.settings, runtime.mail)
    created, _ = await service.create_user(
        email, password=password, display_name=display_name, is_admin=admin, from_cli=True
    )
    async with runtime.db.write_session() as session:
        user = await session.get(User, created.id)
        assert user is not None
        if not verified:
            user.email_verified_at = None
        if accept_tos:
            user.accepted_tos = {document.id: document.version for document in runtime.settings.tos}
        issued = await start_session(
            session, runtime.settings.auth, user, user_agent="pytest", address="127.0.0.1"
        )
        await session.commit()
    return Account(created.id, created.email, password, issued.token)


@asynccontextmanager
async def signed_in_client(app: FastAPI, account: Account) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` that sends ``account``'s token as a Bearer header."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {account.token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as http:
        yield http


@pytest.fixture
async def user_account(app: FastAPI) -> Account:
    return await create_account(app, display_name="Ada")


@pytest.fixture
async def other_user_account(app: FastAPI) -> Account:
    return await create_account(app, display_name="Bob")


@pytest.fixture
async def admin_account(app: FastAPI) -> Account:
    return await create_account(app, admin=True, display_name="Admin")


@pytest.fixture
async def user_client(app: FastAPI, user_account: Account) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as a verified user who accepted the terms."""
    async with signed_in_client(app, user_account) as http:
        yield http


@pytest.fixture
async def other_user_client(
    app: FastAPI, other_user_account: Account
) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as a second, distinct verified user who accepted the terms."""
    async with signed_in_client(app, other_user_account) as http:
        yield http


@pytest.fixture
async def admin_client(app: FastAPI, admin_account: Account) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as a verified administrator who accepted the terms."""
    async with signed_in_client(app, admin_account) as http:
        yield http


# --- media: real recordings made with espeak-ng and ffmpeg (tests/media.py) -------------------


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFactory:
    """Real recordings of every kind the upload accepts or refuses, made once per session."""
    return MediaFactory(tmp_path_factory.mktemp("media"))
