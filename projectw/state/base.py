"""The state backend port: small, expiring, shared-nothing-safe operations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class Subscription(Protocol):
    """Messages from the channels subscribed to, until closed."""

    def __aiter__(self) -> AsyncIterator[tuple[str, str]]: ...

    async def close(self) -> None: ...


class StateBackend(Protocol):
    """What servers share that may be lost on restart: presence, counters, flags, events.

    Nothing stored here is the only copy of anything that matters; the database is.
    """

    async def ping(self) -> None:
        """Raise if the backend is unreachable."""

    async def get(self, key: str) -> str | None:
        """The value under ``key``, or None if absent or expired."""

    async def put(self, key: str, value: str, *, ttl: float | None = None) -> None:
        """Store ``value``; it vanishes after ``ttl`` seconds if given."""

    async def set_if_absent(self, key: str, value: str, *, ttl: float | None = None) -> bool:
        """Store only if nothing is stored; True if this call stored it."""

    async def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    async def incr(self, key: str, *, ttl: float) -> tuple[int, float]:
        """Add one to a counter that expires ``ttl`` seconds after its first increment.

        Returns the new count and the seconds left until the counter expires.
        """

    async def touch(self, group: str, member: str, *, ttl: float) -> None:
        """Mark ``member`` of ``group`` present for the next ``ttl`` seconds."""

    async def leave(self, group: str, member: str) -> None:
        """Mark ``member`` absent now."""

    async def present(self, group: str) -> set[str]:
        """Members of ``group`` whose presence has not expired."""

    async def publish(self, channel: str, message: str) -> None:
        """Deliver ``message`` to every current subscriber of ``channel`` on any instance."""

    async def subscribe(self, *channels: str) -> Subscription:
        """Start receiving (channel, message) pairs published from now on."""

    async def close(self) -> None:
        """Release connections and wake subscribers."""
