"""The queue at a glance for admins."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from projectw.api.deps import AdminUser, RuntimeDep
from projectw.db.base import utcnow
from projectw.jobs.queue.overview import queue_overview

router = APIRouter(prefix="/api/admin", tags=["admin"])


class QueueOverviewOut(BaseModel):
    queued: int = Field(description="Jobs waiting for a runner.")
    assigned: int = Field(description="Jobs handed to a runner that has not started them yet.")
    running: int = Field(description="Jobs being transcribed.")
    succeeded_last_day: int = Field(description="Jobs that succeeded in the last 24 hours.")
    failed_last_day: int = Field(description="Jobs that failed in the last 24 hours.")
    aborted_last_day: int = Field(description="Jobs aborted in the last 24 hours.")


@router.get("/queue")
async def get_queue_overview(_admin: AdminUser, runtime: RuntimeDep) -> QueueOverviewOut:
    """How many jobs wait and run now, and how many finished in the last day."""
    async with runtime.db.session() as session:
        overview = await queue_overview(session, utcnow())
    return QueueOverviewOut(**vars(overview))
