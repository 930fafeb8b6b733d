"""The job queue: the database is the queue (DESIGN.md "Job lifecycle").

Runners claim jobs atomically, hold them under a lease their heartbeats renew, and a reaper
takes back jobs whose runner vanished. What the jobs service needs from here is
``queue_position`` and ``unservable_reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import utcnow
from projectw.jobs.queue.assign import queue_position
from projectw.jobs.queue.capabilities import parse_capabilities, unservable
from projectw.jobs.queue.leases import online_runners

__all__ = ["queue_position", "unservable_reason"]


async def unservable_reason(session: AsyncSession, settings: Mapping[str, Any]) -> str | None:
    """Why no online runner can serve a job with these settings, or None.

    None also when no runner is online at all: the job then simply waits, and its waiting
    reason says that no runner is online.
    """
    online = [parse_capabilities(r.capabilities) for r in await online_runners(session, utcnow())]
    return unservable(online, settings)
