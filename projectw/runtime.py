"""The running server's parts, wired once at start-up: settings, database, state, tasks.

Imports no web framework: the CLI, the app and tests all start and stop it the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, OperationalError

from projectw.auth.housekeeping import INTERVAL_SECONDS as HOUSEKEEPING_SECONDS
from projectw.auth.housekeeping import housekeeping
from projectw.config import Settings
from projectw.db import migrate
from projectw.db.engine import Database
from projectw.errors import StartupError
from projectw.jobs.queue.service import QueueService
from projectw.jobs.retention import start_retention
from projectw.keys import load_or_create_secret
from projectw.mail import Mailer
from projectw.state import StateBackend, open_state

log = logging.getLogger(__name__)


def _check_data_dir(settings: Settings) -> None:
    paths = settings.paths
    try:
        for directory in (paths.data_dir, paths.cache_dir, paths.log_dir, paths.tmp_dir):
            directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=paths.data_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise StartupError(
            f"the data dir {paths.data_dir} is not writable: {exc.strerror or exc}"
        ) from None


def _describe_database(db: Database) -> str:
    url = db.url
    if db.is_sqlite:
        return f"the SQLite database {url.database}"
    return f"the PostgreSQL database {url.database or ''} at {url.host}:{url.port or 5432}"


async def open_database(settings: Settings) -> Database:
    """Connect to the configured database, or raise one clear StartupError."""
    _check_data_dir(settings)
    db = Database(settings.effective_database_url)
    try:
        await db.ping()
    except (TimeoutError, OSError, OperationalError, DBAPIError) as exc:
        await db.dispose()
        reason = getattr(exc, "orig", None) or exc
        text = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
        raise StartupError(f"cannot reach {_describe_database(db)}: {text}") from None
    return db


@dataclass
class Runtime:
    """Everything a server instance owns while it runs."""

    settings: Settings
    db: Database
    state: StateBackend
    secret: bytes
    head_revision: str | None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _mail: Mailer | None = None
    queue: QueueService = field(init=False)

    def __post_init__(self) -> None:
        self.queue = QueueService(self)

    @classmethod
    async def start(cls, settings: Settings) -> Runtime:
        db = await open_database(settings)
        secret = load_or_create_secret(settings)
        try:
            if settings.migrate_on_start:
                before = await migrate.current_revision(db)
                await migrate.upgrade(db)
                after = await migrate.current_revision(db)
                if before != after:
                    log.info("database migrated", extra={"from": before, "to": after})
            if db.is_sqlite:
                # Refresh the query planner's statistics of tables that grew or shrank a lot
                # (PostgreSQL's autovacuum does this by itself).
                async with db.write_engine.begin() as connection:
                    await connection.exec_driver_sql("PRAGMA optimize=0x10002")
            state = open_state(settings.redis_url)
            await state.ping()
        except BaseException:
            await db.dispose()
            raise
        log.info(
            "runtime started",
            extra={"database": db.backend, "mode": settings.mode, "pid": os.getpid()},
        )
        runtime = cls(settings, db, state, secret, migrate.head_revision())
        runtime.start_account_work()
        start_retention(runtime)
        runtime.queue.start()
        return runtime

    @property
    def mail(self) -> Mailer:
        """The mail outbox: queue messages in a transaction, then ``wake`` it."""
        if self._mail is None:
            self._mail = Mailer(self.settings.smtp, self.db)
        return self._mail

    def start_account_work(self) -> None:
        """The mail outbox worker (when SMTP is configured) and account housekeeping."""
        if self.mail.configured:
            self.spawn("mail-outbox", lambda: self.mail.run(self.stopping))
        self.every(
            "account-housekeeping", HOUSEKEEPING_SECONDS, lambda: housekeeping(self.db, self.mail)
        )

    @property
    def stopping(self) -> asyncio.Event:
        """Set when shutdown begins; long-lived work should finish up when it is."""
        return self._stopping

    def spawn(self, name: str, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run background work until shutdown; a crash is logged, never silent."""

        async def guarded() -> None:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task crashed", extra={"task": name})

        task = asyncio.create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def every(self, name: str, seconds: float, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` every ``seconds`` until shutdown; one failure does not stop it."""

        async def loop() -> None:
            while not self._stopping.is_set():
                try:
                    await work()
                except Exception:
                    log.exception("periodic task failed", extra={"task": name})
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), seconds)

        self.spawn(name, loop)

    async def stop(self) -> None:
        """Stop background work within the shutdown timeout, then release resources."""
        self._stopping.set()
        if self._tasks:
            _done, pending = await asyncio.wait(
                set(self._tasks), timeout=self.settings.shutdown_timeout
            )
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2)
        await self.state.close()
        await self.db.dispose()
        log.info("runtime stopped")
