"""What a queue transaction changed, and what to do about it once it is committed.

Inside the transaction each job change becomes a ``job_updated`` event row (so it is committed
together with the change). After the commit the users' event streams are woken, runners whose
long poll has news are woken, and jobs that reached a final state get their side effects
(e-mail) through the jobs service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.models import Job
from projectw.jobs import events

if TYPE_CHECKING:
    from projectw.runtime import Runtime

log = logging.getLogger(__name__)

WAKE_CHANNEL = "queue:wake"
FINAL = frozenset({"succeeded", "failed", "aborted"})


def _wire(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass
class QueueChanges:
    """Collects follow-up work of one queue transaction."""

    users: set[int] = field(default_factory=set)
    finished: list[int] = field(default_factory=list)
    runners: set[int] = field(default_factory=set)

    async def job_updated(self, session: AsyncSession, job: Job, **changed: Any) -> None:
        """Record an event with the changed fields of ``job`` (values already set on it)."""
        await self.event(session, job.user_id, job.id, **changed)

    async def event(self, session: AsyncSession, user_id: int, job_id: int, **changed: Any) -> None:
        """Record an event with the changed fields of the job ``job_id`` of ``user_id``."""
        payload = {name: _wire(value) for name, value in changed.items()}
        await events.add_event(
            session, user_id=user_id, type=events.JOB_UPDATED, job_id=job_id, payload=payload
        )
        self.users.add(user_id)
        if changed.get("status") in FINAL:
            self.finished.append(job_id)

    def wake_runner(self, runner_id: int | None) -> None:
        if runner_id is not None:
            self.runners.add(runner_id)

    async def publish(self, runtime: Runtime) -> None:
        """After the commit: wake streams and runners, finish jobs. Never raises."""
        for user_id in self.users:
            await events.wake(runtime.state, user_id)
        for runner_id in self.runners:
            try:
                await runtime.state.publish(WAKE_CHANNEL, str(runner_id))
            except Exception:
                # The runner's long poll ends at its timeout and sees the change then.
                log.warning("could not wake a runner", extra={"runner_id": runner_id})
        if self.finished:
            # Imported here: the jobs service itself imports the queue.
            from projectw.jobs.service import job_finished

            for job_id in self.finished:
                try:
                    await job_finished(runtime, job_id)
                except Exception:
                    log.exception("job finished hook failed", extra={"job_id": job_id})
