"""The settings model: every section under one root, with its checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    field_validator,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from projectw.config.accounts import AuthSettings, SmtpSettings, TermsDocument
from projectw.config.base import _Section
from projectw.config.work import JobsSettings, QueueSettings, RunnerSettings
from projectw.paths import Paths, resolve_paths


class Settings(_Section):
    """Everything that configures a Project-W server."""

    host: str = Field(
        "127.0.0.1",
        description="Address to listen on. Use 0.0.0.0 to accept connections from other machines.",
    )
    port: int = Field(5000, ge=0, le=65535, description="TCP port; 0 picks a free port.")
    public_url: str | None = Field(
        None,
        description="URL under which users reach this server, used in e-mails and printed links. "
        "Defaults to http://HOST:PORT.",
    )
    data_dir: Path | None = Field(
        None,
        description="Folder for the database, secret key, cache and logs. "
        "Defaults to the platform data dir (see `projectw paths`).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database: sqlite+aiosqlite:///PATH or "
        "postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DB. Defaults to SQLite in the data dir.",
    )
    redis_url: str | None = Field(
        None,
        description="redis://HOST:PORT/DB for shared ephemeral state in cluster mode. "
        "Unset: state is kept in process memory (appliance).",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Server secret (at least 32 characters) from which encryption and signing "
        "keys are derived. Unset: generated on first start into DATA_DIR/secret_key.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest level of log messages written."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as readable text or as one JSON object per line."
    )
    shutdown_timeout: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Seconds to wait for requests and background work to finish on shutdown.",
    )
    migrate_on_start: bool = Field(
        True, description="Apply database migrations when the server starts."
    )
    auth: AuthSettings = Field(
        default_factory=AuthSettings, description="Local accounts, sessions and rate limits."
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="Outgoing mail.")
    tos: list[TermsDocument] = Field(
        default_factory=list,
        description="Documents (terms of service, privacy notice) every user must accept in "
        "their current version before submitting work.",
    )
    runner: RunnerSettings = Field(
        default_factory=RunnerSettings, description="The embedded runner."
    )
    queue: QueueSettings = Field(
        default_factory=QueueSettings, description="Job queue: leases, retries, long polls."
    )
    jobs: JobsSettings = Field(
        default_factory=JobsSettings, description="Uploads, job defaults and retention."
    )

    @field_validator("tos")
    @classmethod
    def _unique_tos_ids(cls, value: list[TermsDocument]) -> list[TermsDocument]:
        ids = [document.id for document in value]
        if len(ids) != len(set(ids)):
            raise ValueError("terms document ids must be unique")
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return normalise_database_url(value).render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^rediss?://", value):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value())
        return value

    @property
    def paths(self) -> Paths:
        return resolve_paths(self.data_dir)

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.paths.data_dir / 'projectw.db'}"

    @property
    def mode(self) -> Literal["appliance", "cluster"]:
        return "cluster" if self.redis_url else "appliance"

    def base_url(self, port: int | None = None) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port if port is not None else self.port}"


_PLACEHOLDER_SECRETS = {"changeme", "changethis", "secret", "password", "replaceme", "xxx"}


def check_secret(value: str) -> None:
    """Refuse empty, placeholder or short secrets."""
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be empty")
    lowered = re.sub(r"[^a-z]", "", stripped.lower())
    if lowered in _PLACEHOLDER_SECRETS or stripped.startswith("<") or len(set(stripped)) < 8:
        raise ValueError("looks like a placeholder; set a long random value")
    if len(stripped) < 32:
        raise ValueError("must be at least 32 characters long")


def normalise_database_url(value: str) -> URL:
    """Parse a database URL and pick the async driver Project-W uses for its backend."""
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError(f"is not a valid database URL ({value!r})") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("a SQLite URL needs a file path, e.g. sqlite+aiosqlite:///data.db")
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        if not url.host and not url.query.get("host"):
            raise ValueError("a PostgreSQL URL needs a host")
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}; use sqlite or postgresql")
