"""Ephemeral shared state: in process memory (appliance) or Redis (cluster)."""

from __future__ import annotations

from projectw.state.base import StateBackend, Subscription
from projectw.state.memory import MemoryState

__all__ = ["MemoryState", "StateBackend", "Subscription", "open_state"]


def open_state(redis_url: str | None) -> StateBackend:
    """The state backend for this configuration."""
    if redis_url is not None:
        from projectw.errors import ConfigError

        raise ConfigError("redis_url is set, but this version keeps state in memory only")
    return MemoryState()
