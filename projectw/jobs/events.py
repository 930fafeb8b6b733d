"""Per-user change events: rows in the database, fanned out through the state backend.

A change is recorded as an ``Event`` row in the same transaction as the change itself, so an
event exists exactly when the change was committed. After the commit ``wake`` publishes on the
user's channel; every stream of that user, on any server instance, then reads the new rows.
Because streams read rows (not messages), a reconnecting client resumes with ``Last-Event-ID``
and misses nothing that is still kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import Event
from projectw.state import StateBackend

log = logging.getLogger(__name__)

JOB_CREATED = "job_created"
JOB_UPDATED = "job_updated"
JOB_DELETED = "job_deleted"
KEEPALIVE_SECONDS = 15.0
PROGRESS_EVENT_INTERVAL = 1.0
# Rows read per query; a stream that fell far behind catches up in several reads.
_BATCH = 500
# How long a transaction that records an event may take from insert to commit, at most.
LATE_COMMIT_WINDOW = timedelta(seconds=30)


def channel(user_id: int) -> str:
    return f"events:{user_id}"


async def add_event(
    session: AsyncSession, *, user_id: int, type: str, job_id: int | None, payload: dict[str, Any]
) -> None:
    """Record an event in the caller's transaction; call ``wake`` after the commit."""
    session.add(Event(user_id=user_id, type=type, job_id=job_id, payload=payload))


@dataclass(frozen=True)
class NewEvent:
    """An event not stored yet."""

    user_id: int
    type: str
    job_id: int | None
    payload: dict[str, Any]


_INSERT_EVENT = insert(cast(Table, Event.__table__))


async def add_events(session: AsyncSession, new: list[NewEvent]) -> None:
    """Record events in the caller's transaction with one statement, in their order.

    Call ``wake`` for their users after the commit.
    """
    now = utcnow()
    rows = [
        {
            "user_id": event.user_id,
            "type": event.type,
            "job_id": event.job_id,
            "payload": event.payload,
            "created_at": now,
        }
        for event in new
    ]
    await session.execute(_INSERT_EVENT, rows)


async def wake(state: StateBackend, user_id: int) -> None:
    """Tell the user's streams on every instance that new events were committed."""
    try:
        await state.publish(channel(user_id), "")
    except Exception:
        # The events are committed; streams still find them at their next keep-alive.
        log.warning("could not publish an event wake-up", extra={"user_id": user_id})


async def progress_event_due(state: StateBackend, job_id: int) -> bool:
    """True at most once per PROGRESS_EVENT_INTERVAL per job: throttles progress events."""
    return await state.set_if_absent(f"progress-event:{job_id}", "1", ttl=PROGRESS_EVENT_INTERVAL)


@dataclass(frozen=True)
class StreamedEvent:
    id: int
    type: str
    data: dict[str, Any]

    @cached_property
    def text(self) -> str:
        """The event in text/event-stream framing (encoded once, however many streams)."""
        body = json.dumps(self.data, separators=(",", ":"), default=str)
        return f"id: {self.id}\nevent: {self.type}\ndata: {body}\n\n"


KEEPALIVE = ": keep-alive\n\n"


async def latest_event_id(db: Database, user_id: int) -> int:
    async with db.session() as session:
        value = await session.scalar(select(func.max(Event.id)).where(Event.user_id == user_id))
    return int(value or 0)


def _possibly_late(user_id: int, up_to: int) -> list[ColumnElement[bool]]:
    """The user's recent events up to an id: those a late commit may still add to."""
    return [
        Event.created_at >= utcnow() - LATE_COMMIT_WINDOW,
        Event.user_id == user_id,
        Event.id <= up_to,
    ]


def _streamed(row: Event) -> StreamedEvent:
    return StreamedEvent(row.id, row.type, {"job_id": row.job_id, **row.payload})


async def events_after(db: Database, user_id: int, after: int) -> list[StreamedEvent]:
    """The user's events with ids above ``after``, oldest first (at most one batch).

    On PostgreSQL, ids are handed out when rows are inserted but become visible when their
    transactions commit, so an event may appear after one with a higher id was read. The
    events of the last LATE_COMMIT_WINDOW are therefore returned as well; streams skip those
    they already sent. On SQLite one writer at a time makes commit order id order.
    """
    async with db.session() as session:
        rows = list(
            await session.scalars(
                select(Event)
                .where(Event.user_id == user_id, Event.id > after)
                .order_by(Event.id)
                .limit(_BATCH)
            )
        )
        if not db.is_sqlite:
            late = await session.scalars(select(Event).where(*_possibly_late(user_id, after)))
            rows = sorted([*late, *rows], key=lambda row: row.id)
        return [_streamed(row) for row in rows]


async def _visible_late_ids(db: Database, user_id: int, up_to: int) -> list[int]:
    """Ids ``events_after`` would return again as possibly late, as visible now."""
    if db.is_sqlite:
        return []
    async with db.session() as session:
        return list(await session.scalars(select(Event.id).where(*_possibly_late(user_id, up_to))))


# Reads in flight, by (database, user, cursor), with the loop time each started: the streams of
# one user on this instance wake together and share one query instead of each running its own.
_reads: dict[tuple[int, int, int], tuple[float, asyncio.Future[list[StreamedEvent]]]] = {}


async def _shared_events_after(
    db: Database, user_id: int, after: int, not_before: float
) -> list[StreamedEvent]:
    """Events after ``after``, from a read that started at ``not_before`` or later.

    A read that began earlier may miss a commit the caller was woken for, so it is not joined.
    """
    key = (id(db), user_id, after)
    entry = _reads.get(key)
    if entry is None or entry[0] < not_before:
        read = asyncio.ensure_future(events_after(db, user_id, after))
        entry = (asyncio.get_running_loop().time(), read)
        _reads[key] = entry

        def forget(_done: object, entry: object = entry) -> None:
            if _reads.get(key) is entry:
                del _reads[key]

        read.add_done_callback(forget)
    return await asyncio.shield(entry[1])


async def stream_events(
    db: Database,
    state: StateBackend,
    stopping: asyncio.Event,
    user_id: int,
    last_event_id: int | None,
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[str]:
    """The user's events as text/event-stream chunks until the server stops.

    Without ``last_event_id`` the stream starts with changes made from now on; with it, every
    kept event after that id is sent first.
    """
    subscription = await state.subscribe(channel(user_id))
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()
    # When the latest wake-up arrived: its commit is visible to any read started later.
    woken_at = [loop.time()]
    stopping_or_closed = asyncio.Event()

    async def listen() -> None:
        async for _message in subscription:
            woken_at[0] = loop.time()
            woken.set()
        # The backend closed the subscription (shutdown or a slow reader cut off).
        stopping_or_closed.set()

    listener = asyncio.create_task(listen())
    stop_waiter = asyncio.create_task(stopping.wait())
    try:
        cursor = last_event_id if last_event_id is not None else await latest_event_id(db, user_id)
        yield "retry: 3000\n\n"
        # Ids sent recently: late-committed events come back with later reads (see
        # ``events_after``) and must not be sent twice. Those already visible at the start
        # belong to what the client has (or, on a new stream, did not ask for).
        sent = dict.fromkeys(await _visible_late_ids(db, user_id, cursor), loop.time())
        since = loop.time()
        while not stopping.is_set():
            # A wake-up arriving from here on is for a commit this read may miss: read again.
            woken.clear()
            batch = await _shared_events_after(db, user_id, cursor, since)
            fresh = 0
            for event in batch:
                if event.id in sent:
                    continue
                sent[event.id] = loop.time()
                cursor = max(cursor, event.id)
                fresh += 1
                yield event.text
            horizon = loop.time() - 2 * LATE_COMMIT_WINDOW.total_seconds()
            for event_id in [i for i, moment in sent.items() if moment < horizon]:
                del sent[event_id]
            if fresh and len(batch) >= _BATCH:
                continue
            if stopping_or_closed.is_set():
                break
            if not woken.is_set():
                wake = asyncio.ensure_future(woken.wait())
                closed = asyncio.ensure_future(stopping_or_closed.wait())
                done, _pending = await asyncio.wait(
                    {wake, closed, stop_waiter}, timeout=keepalive, return_when="FIRST_COMPLETED"
                )
                wake.cancel()
                closed.cancel()
                if not done:
                    yield KEEPALIVE
            # Streams woken by the same wake-up share one read (see _shared_events_after).
            since = woken_at[0]
    finally:
        listener.cancel()
        stop_waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener
        await subscription.close()


async def prune_events(db: Database, older_than: timedelta) -> int:
    """Delete events older than ``older_than``; returns how many were deleted."""
    cutoff = utcnow() - older_than
    async with db.session() as session, session.begin():
        result = await session.execute(delete(Event).where(Event.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
