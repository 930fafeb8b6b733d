"""The queue transaction: one scheduler at a time, on SQLite and on PostgreSQL.

Every change to who runs what (assigning, releasing, reaping, registering) happens inside
``queue_transaction``. On SQLite the write session starts with ``BEGIN IMMEDIATE``, so there
is one writer; queue transactions of this process also queue up on an asyncio lock first,
because SQLite's own busy handler waits by sleeping and polling, which under many concurrent
runners costs far more than the transactions themselves. On PostgreSQL a transaction-scoped
advisory lock serialises schedulers across all server instances, and the rows they pick are
still locked ``FOR UPDATE SKIP LOCKED`` so that other writers (a user aborting a job) never
wait on a scheduler for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.engine import Database
from projectw.jobs.queue.changes import QueueChanges

# Any fixed number distinct from the migration lock.
_PG_QUEUE_LOCK = 0x70775155

_sqlite_locks: weakref.WeakKeyDictionary[Database, asyncio.Lock] = weakref.WeakKeyDictionary()


def _in_process_lock(db: Database) -> contextlib.AbstractAsyncContextManager[object]:
    if not db.is_sqlite:
        return contextlib.nullcontext()
    lock = _sqlite_locks.get(db)
    if lock is None:
        lock = _sqlite_locks[db] = asyncio.Lock()
    return lock


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


@asynccontextmanager
async def queue_transaction(db: Database, changes: QueueChanges) -> AsyncIterator[AsyncSession]:
    """A committed-on-success transaction holding the queue lock.

    The events recorded in ``changes`` are written just before the commit.
    """
    async with _in_process_lock(db), db.write_session() as session, session.begin():
        if not db.is_sqlite:
            await session.execute(_ADVISORY_LOCK, {"key": _PG_QUEUE_LOCK})
        yield session
        await changes.write(session)
