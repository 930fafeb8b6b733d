"""In-process state for the appliance: dictionaries with expiry and asyncio queues."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator

_CLOSED = object()
SUBSCRIBER_QUEUE_SIZE = 1000


class _MemorySubscription:
    def __init__(self, owner: MemoryState, channels: tuple[str, ...]) -> None:
        self._owner = owner
        self.channels = channels
        self.queue: asyncio.Queue[object] = asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)

    def deliver(self, item: object) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # A subscriber that stopped reading is cut off rather than growing without bound.
            self._owner._unsubscribe(self)
            self.queue.get_nowait()
            self.queue.put_nowait(_CLOSED)

    async def __aiter__(self) -> AsyncIterator[tuple[str, str]]:
        while True:
            item = await self.queue.get()
            if item is _CLOSED:
                return
            yield item  # type: ignore[misc]

    async def close(self) -> None:
        self._owner._unsubscribe(self)


class MemoryState:
    """The StateBackend of a single process."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float | None]] = {}
        self._groups: dict[str, dict[str, float]] = defaultdict(dict)
        self._subscribers: dict[str, set[_MemorySubscription]] = defaultdict(set)

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._values.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= self._now():
            del self._values[key]
            return None
        return entry

    async def ping(self) -> None:
        return None

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def put(self, key: str, value: str, *, ttl: float | None = None) -> None:
        self._values[key] = (value, self._now() + ttl if ttl is not None else None)

    async def set_if_absent(self, key: str, value: str, *, ttl: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        await self.put(key, value, ttl=ttl)
        return True

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def incr(self, key: str, *, ttl: float) -> tuple[int, float]:
        entry = self._live(key)
        now = self._now()
        if entry is None:
            count, expires = 1, now + ttl
        else:
            count, expires = int(entry[0]) + 1, entry[1] or now + ttl
        self._values[key] = (str(count), expires)
        return count, max(0.0, expires - now)

    async def touch(self, group: str, member: str, *, ttl: float) -> None:
        self._groups[group][member] = self._now() + ttl

    async def leave(self, group: str, member: str) -> None:
        self._groups[group].pop(member, None)

    async def present(self, group: str) -> set[str]:
        now = self._now()
        members = self._groups[group]
        for member in [m for m, expires in members.items() if expires <= now]:
            del members[member]
        return set(members)

    async def publish(self, channel: str, message: str) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.deliver((channel, message))

    async def subscribe(self, *channels: str) -> _MemorySubscription:
        subscription = _MemorySubscription(self, channels)
        for channel in channels:
            self._subscribers[channel].add(subscription)
        return subscription

    def _unsubscribe(self, subscription: _MemorySubscription) -> None:
        for channel in subscription.channels:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[channel]

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                self._unsubscribe(subscription)
                subscription.deliver(_CLOSED)
        self._values.clear()
