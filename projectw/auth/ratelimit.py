"""Rate limits over the state backend, shared by every server instance in a cluster."""

from __future__ import annotations

import hashlib
import math
import time

from projectw.errors import RateLimited
from projectw.state import StateBackend

_MESSAGE = "Too many attempts; try again in {seconds} seconds."


def _key(scope: str, subject: str) -> str:
    # Addresses and e-mails are hashed so the state backend holds no personal data.
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


class RateLimiter:
    """Counts attempts per (scope, subject) in fixed windows; refuses with RateLimited."""

    def __init__(self, state: StateBackend, window_seconds: int) -> None:
        self._state = state
        self._window = window_seconds

    async def hit(self, scope: str, subject: str, limit: int) -> None:
        """Count one attempt; raise RateLimited if this one is over ``limit``."""
        count, seconds_left = await self._state.incr(_key(scope, subject), ttl=self._window)
        if count > limit:
            retry = max(1, math.ceil(seconds_left))
            raise RateLimited(_MESSAGE.format(seconds=retry), retry_after=retry)

    async def check_blocked(self, scope: str, subject: str) -> None:
        """Raise RateLimited if ``block`` was called for this subject and the block holds."""
        until = await self._state.get(_key(f"{scope}:blocked", subject))
        if until is None:
            return
        retry = math.ceil(float(until) - time.time())
        if retry > 0:
            raise RateLimited(_MESSAGE.format(seconds=retry), retry_after=retry)

    async def count_failure(self, scope: str, subject: str, limit: int) -> None:
        """Count one failure; after ``limit`` failures block the subject for the window rest."""
        count, seconds_left = await self._state.incr(_key(scope, subject), ttl=self._window)
        if count >= limit and seconds_left > 0:
            await self._state.put(
                _key(f"{scope}:blocked", subject),
                str(time.time() + seconds_left),
                ttl=seconds_left,
            )
