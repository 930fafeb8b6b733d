"""What a queue transaction changed, and what to do about it once it is committed.

Each job change becomes a ``job_updated`` event; ``queue_transaction`` writes the events of a
transaction in one statement just before it commits (so they are committed together with the
changes). After the commit the users' event streams are woken, runners whose long poll has
news are woken, and finished jobs that asked for an e-mail get it through the jobs service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from projectw.jobs import events

if TYPE_CHECKING:
    from projectw.jobs.queue.leases import HeldJob
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
    mail: list[int] = field(default_factory=list)
    runners: set[int] = field(default_factory=set)
    pending: list[events.NewEvent] = field(default_factory=list)

    def job_updated(self, job: HeldJob, **changed: Any) -> None:
        """Record an event with the changed fields of ``job``."""
        self.event(job.user_id, job.id, **changed)
        if changed.get("status") in FINAL and job.wants_mail:
            self.mail.append(job.id)

    def event(self, user_id: int, job_id: int, **changed: Any) -> None:
        """Record an event with the changed fields of the job ``job_id`` of ``user_id``."""
        payload = {name: _wire(value) for name, value in changed.items()}
        self.pending.append(events.NewEvent(user_id, events.JOB_UPDATED, job_id, payload))
        self.users.add(user_id)

    async def write(self, session: AsyncSession) -> None:
        """Store the recorded events in the caller's transaction."""
        if self.pending:
            await events.add_events(session, self.pending)
            self.pending = []

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
        if self.mail:
            # Imported here: the jobs service itself imports the queue.
            from projectw.jobs.service import job_finished

            for job_id in self.mail:
                try:
                    await job_finished(runtime, job_id)
                except Exception:
                    log.exception("job finished hook failed", extra={"job_id": job_id})
