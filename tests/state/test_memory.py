"""The in-memory state backend keeps its promises (expiry, counters, presence, pub/sub)."""

from __future__ import annotations

import asyncio

import pytest

from projectw.state.memory import SUBSCRIBER_QUEUE_SIZE, MemoryState


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A controllable clock: tests advance time instead of sleeping."""
    now = [1000.0]
    monkeypatch.setattr(MemoryState, "_now", staticmethod(lambda: now[0]))
    return now


async def test_values_expire(clock: list[float]) -> None:
    state = MemoryState()
    await state.put("a", "1", ttl=5)
    await state.put("b", "2")
    assert await state.get("a") == "1"
    clock[0] += 5.1
    assert await state.get("a") is None
    assert await state.get("b") == "2"
    await state.delete("b")
    assert await state.get("b") is None


async def test_set_if_absent(clock: list[float]) -> None:
    state = MemoryState()
    assert await state.set_if_absent("k", "first", ttl=1)
    assert not await state.set_if_absent("k", "second", ttl=1)
    assert await state.get("k") == "first"
    clock[0] += 2
    assert await state.set_if_absent("k", "third")
    assert await state.get("k") == "third"


async def test_counter_window(clock: list[float]) -> None:
    state = MemoryState()
    assert await state.incr("hits", ttl=60) == (1, 60)
    clock[0] += 10
    count, left = await state.incr("hits", ttl=60)
    assert (count, left) == (2, 50)
    clock[0] += 50
    assert (await state.incr("hits", ttl=60))[0] == 1


async def test_presence(clock: list[float]) -> None:
    state = MemoryState()
    await state.touch("runners", "r1", ttl=10)
    await state.touch("runners", "r2", ttl=30)
    assert await state.present("runners") == {"r1", "r2"}
    clock[0] += 11
    assert await state.present("runners") == {"r2"}
    await state.leave("runners", "r2")
    assert await state.present("runners") == set()


async def test_publish_reaches_every_subscriber_of_the_channel() -> None:
    state = MemoryState()
    first = await state.subscribe("user:1")
    second = await state.subscribe("user:1", "user:2")
    await state.publish("user:1", "hello")
    await state.publish("user:2", "only-second")
    await state.publish("user:3", "nobody")

    async def take(subscription: object, count: int) -> list[tuple[str, str]]:
        received = []
        async for message in subscription:  # type: ignore[attr-defined]
            received.append(message)
            if len(received) == count:
                break
        return received

    assert await asyncio.wait_for(take(first, 1), 1) == [("user:1", "hello")]
    assert await asyncio.wait_for(take(second, 2), 1) == [
        ("user:1", "hello"),
        ("user:2", "only-second"),
    ]
    await first.close()
    await state.publish("user:1", "after-close")
    assert first.queue.empty()


async def test_close_ends_subscriptions() -> None:
    state = MemoryState()
    subscription = await state.subscribe("c")
    await state.close()
    messages = [message async for message in subscription]
    assert messages == []


async def test_a_subscriber_that_stops_reading_is_cut_off() -> None:
    state = MemoryState()
    slow = await state.subscribe("c")
    for index in range(SUBSCRIBER_QUEUE_SIZE + 5):
        await state.publish("c", str(index))
    received = [message async for message in slow]
    assert len(received) == SUBSCRIBER_QUEUE_SIZE - 1
    await state.publish("c", "later")
    assert slow.queue.empty()
