"""The event log and its streams: resume, live wake-ups, keep-alives, stop, pruning."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from projectw.db.engine import Database
from projectw.jobs import events
from projectw.state.memory import MemoryState
from tests.jobs.conftest import create_user


async def _emit(
    db: Database, state: MemoryState, user_id: int, job_id: int, **fields: object
) -> None:
    async with db.session() as session, session.begin():
        await events.add_event(
            session, user_id=user_id, type=events.JOB_UPDATED, job_id=job_id, payload=fields
        )
    await events.wake(state, user_id)


def _parse(chunk: str) -> dict[str, object]:
    fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
    return {"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])}


async def _next(stream: AsyncIterator[str]) -> str:
    return await asyncio.wait_for(anext(stream), 10)


async def test_stream_resumes_after_last_event_id_and_follows_live(
    db: Database, user_id: int
) -> None:
    state = MemoryState()
    stopping = asyncio.Event()
    for progress in (10, 20, 30):
        await _emit(db, state, user_id, 7, progress=progress)
    first_id = await events.latest_event_id(db, user_id) - 2

    stream = events.stream_events(db, state, stopping, user_id, first_id)
    assert (await _next(stream)).startswith("retry:")
    resumed = [_parse(await _next(stream)) for _ in range(2)]
    assert [e["data"] for e in resumed] == [
        {"job_id": 7, "progress": 20},
        {"job_id": 7, "progress": 30},
    ]
    assert resumed[0]["event"] == "job_updated"

    reading = asyncio.ensure_future(_next(stream))
    await asyncio.sleep(0.05)
    await _emit(db, state, user_id, 7, status="succeeded")
    live = _parse(await reading)
    assert live["data"] == {"job_id": 7, "status": "succeeded"}
    assert live["id"] == first_id + 3

    stopping.set()
    assert [chunk async for chunk in stream] == []


async def test_a_new_stream_starts_with_new_events_only(db: Database, user_id: int) -> None:
    state = MemoryState()
    await _emit(db, state, user_id, 1, progress=5)
    stream = events.stream_events(db, state, asyncio.Event(), user_id, None)
    await _next(stream)
    reading = asyncio.ensure_future(_next(stream))
    await asyncio.sleep(0.05)
    await _emit(db, state, user_id, 1, progress=50)
    assert _parse(await reading)["data"] == {"job_id": 1, "progress": 50}
    await stream.aclose()


async def test_streams_see_only_their_users_events(db: Database, user_id: int) -> None:
    state = MemoryState()
    other = await create_user(db)
    stream = events.stream_events(db, state, asyncio.Event(), user_id, None, keepalive=0.2)
    await _next(stream)
    await _emit(db, state, other, 3, progress=1)
    assert await _next(stream) == events.KEEPALIVE
    await _emit(db, state, user_id, 4, progress=2)
    assert _parse(await _next(stream))["data"] == {"job_id": 4, "progress": 2}
    await stream.aclose()


async def test_keepalive_comments_while_idle(db: Database, user_id: int) -> None:
    stream = events.stream_events(db, MemoryState(), asyncio.Event(), user_id, 0, keepalive=0.05)
    await _next(stream)
    assert await _next(stream) == ": keep-alive\n\n"
    assert await _next(stream) == ": keep-alive\n\n"
    await stream.aclose()


async def test_stream_ends_when_the_state_backend_closes(db: Database, user_id: int) -> None:
    state = MemoryState()
    stream = events.stream_events(db, state, asyncio.Event(), user_id, 0)
    await _next(stream)
    reading = asyncio.ensure_future(anext(stream, None))
    await asyncio.sleep(0.05)
    await state.close()
    assert await asyncio.wait_for(reading, 10) is None


async def test_progress_events_are_throttled_per_job() -> None:
    state = MemoryState()
    assert await events.progress_event_due(state, 1) is True
    assert await events.progress_event_due(state, 1) is False
    assert await events.progress_event_due(state, 2) is True


async def test_old_events_are_pruned(db: Database, user_id: int) -> None:
    state = MemoryState()
    await _emit(db, state, user_id, 1, progress=1)
    assert await events.prune_events(db, timedelta(hours=1)) == 0
    assert await events.prune_events(db, timedelta(seconds=-1)) == 1
    assert await events.events_after(db, user_id, 0) == []


async def test_woken_streams_share_a_read_only_if_it_started_after_their_wake(
    db: Database, user_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database read is replaced by one that waits for a gate, so that a read is reliably
    # still in flight while other streams arrive; nothing else can hold a query open on cue.
    gate = asyncio.Event()
    calls: list[int] = []

    async def gated_read(_db: Database, _user_id: int, after: int) -> list[events.StreamedEvent]:
        calls.append(after)
        await gate.wait()
        return []

    monkeypatch.setattr(events, "events_after", gated_read)
    loop = asyncio.get_running_loop()
    woken_at = loop.time()
    first = asyncio.ensure_future(events._shared_events_after(db, user_id, 5, woken_at))
    await asyncio.sleep(0)
    same_wake = asyncio.ensure_future(events._shared_events_after(db, user_id, 5, woken_at))
    await asyncio.sleep(0)
    assert calls == [5]
    later_wake = asyncio.ensure_future(events._shared_events_after(db, user_id, 5, loop.time()))
    for _ in range(3):
        await asyncio.sleep(0)
    assert calls == [5, 5]
    gate.set()
    assert await asyncio.gather(first, same_wake, later_wake) == [[], [], []]
    assert events._reads == {}


# SQLite has one writer at a time, so its events always commit in id order.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_event_committed_after_a_later_one_is_still_sent(
    db: Database, user_id: int
) -> None:
    state = MemoryState()
    stream = events.stream_events(db, state, asyncio.Event(), user_id, None)
    await _next(stream)
    async with db.session() as slow:
        await events.add_event(
            slow, user_id=user_id, type=events.JOB_UPDATED, job_id=1, payload={"progress": 1}
        )
        await slow.flush()
        await _emit(db, state, user_id, 2, progress=2)
        assert _parse(await _next(stream))["data"] == {"job_id": 2, "progress": 2}
        await slow.commit()
    await events.wake(state, user_id)
    late = _parse(await _next(stream))
    assert late["data"] == {"job_id": 1, "progress": 1}
    reading = asyncio.ensure_future(_next(stream))
    await _emit(db, state, user_id, 3, progress=3)
    assert _parse(await reading)["data"] == {"job_id": 3, "progress": 3}
    await stream.aclose()
