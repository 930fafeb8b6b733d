"""Password hashing (argon2id) and the password rules.

Hashing and verifying run in a worker thread: they are CPU-bound by design and must not
stall the event loop. Verifying against an unknown account still costs one full hash (against
a dummy), so a wrong address and a wrong password take the same time.
"""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from projectw.config import AuthSettings
from projectw.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 iterations, 1 lane.
OWASP_TIME_COST = 2
OWASP_MEMORY_KIB = 19 * 1024
OWASP_PARALLELISM = 1


def check_password_rules(password: str, field: str = "password") -> None:
    """Raise InvalidInput unless the password has 12 to 1024 characters."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"Field '{field}': must have at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"Field '{field}': must have at most {MAX_LENGTH} characters.")


class Passwords:
    """Hashes and verifies passwords with one fixed set of argon2id parameters."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._dummy_hash = hasher.hash("projectw-dummy-password")

    @property
    def parameters(self) -> tuple[int, int, int]:
        """(time cost, memory in KiB, parallelism)."""
        return (self._hasher.time_cost, self._hasher.memory_cost, self._hasher.parallelism)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True if ``password`` matches; an absent hash is checked against a dummy (same cost)."""
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and bool(
                password_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


@functools.cache
def _passwords(time_cost: int, memory_kib: int, parallelism: int) -> Passwords:
    return Passwords(
        PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    )


def passwords_for(settings: AuthSettings) -> Passwords:
    """The hasher these settings ask for (OWASP parameters unless the test-only switch is on)."""
    if settings.fast_password_hashing_for_tests:
        return _passwords(1, 8, 1)
    return _passwords(OWASP_TIME_COST, OWASP_MEMORY_KIB, OWASP_PARALLELISM)
