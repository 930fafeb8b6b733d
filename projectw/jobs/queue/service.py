"""The queue machinery one server instance runs: long-poll waiters, the watcher, the reaper.

Runners that long-poll wait here. Two things wake them:

- a message on the state backend's wake channel, published after a transaction assigned them
  a job, revoked them or ended their session (on any instance: Redis fans it out);
- the watcher, which while anyone waits looks at the queue every
  ``queue.watch_interval_seconds``: when queued work changed (a user uploaded, a job was
  requeued) it runs one assignment pass, and it notices aborts requested for a waiting
  runner's job. Uploads and aborts are handled by the jobs service, which need not know about
  runners at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from projectw.db.base import utcnow
from projectw.db.models import Job
from projectw.jobs.queue.assign import assign_jobs, is_waiting
from projectw.jobs.queue.changes import WAKE_CHANNEL, QueueChanges
from projectw.jobs.queue.leases import ACTIVE
from projectw.jobs.queue.lock import queue_transaction
from projectw.jobs.queue.reaper import reap

if TYPE_CHECKING:
    from projectw.runtime import Runtime

log = logging.getLogger(__name__)


class QueueService:
    """Owned by the Runtime; ``start`` runs its background tasks until shutdown."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._waiters: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._waiting_jobs: dict[int, int] = {}
        self._someone_waits = asyncio.Event()
        self._started = time.monotonic()
        self._signature: tuple[Any, ...] | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.runtime.settings.queue.lease_seconds)

    def start(self) -> None:
        settings = self.runtime.settings.queue
        self.runtime.spawn("queue-wake-listener", self._listen)
        self.runtime.spawn("queue-watcher", self._watch)
        self.runtime.every("queue-reaper", settings.reaper_interval_seconds, self._reap)

    async def wait(
        self,
        runner_id: int,
        job_id: int | None,
        timeout: float,
        gone: asyncio.Event | None = None,
    ) -> None:
        """Wait until something concerns this runner, the timeout passes or shutdown begins.

        ``gone`` ends the wait too: it is set when the runner stopped waiting for the answer.
        """
        event = asyncio.Event()
        self._waiters[runner_id].add(event)
        if job_id is not None:
            self._waiting_jobs[runner_id] = job_id
        self._someone_waits.set()
        waits = {
            asyncio.ensure_future(self.runtime.stopping.wait()),
            asyncio.ensure_future(event.wait()),
        }
        if gone is not None:
            waits.add(asyncio.ensure_future(gone.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for waiting in waits:
                waiting.cancel()
            waiters = self._waiters.get(runner_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[runner_id]
                    self._waiting_jobs.pop(runner_id, None)

    def wake(self, runner_id: int) -> None:
        """Wake this instance's long polls of one runner."""
        for event in self._waiters.get(runner_id, ()):
            event.set()

    async def _listen(self) -> None:
        subscription = await self.runtime.state.subscribe(WAKE_CHANNEL)
        messages = aiter(subscription)
        stopping = asyncio.ensure_future(self.runtime.stopping.wait())
        try:
            while True:
                message = asyncio.ensure_future(anext(messages))
                done, _ = await asyncio.wait({message, stopping}, return_when="FIRST_COMPLETED")
                if stopping in done:
                    message.cancel()
                    return
                try:
                    _channel, payload = message.result()
                except StopAsyncIteration:
                    return
                with contextlib.suppress(ValueError):
                    self.wake(int(payload))
        finally:
            stopping.cancel()
            await subscription.close()

    async def _watch(self) -> None:
        interval = self.runtime.settings.queue.watch_interval_seconds
        stopping = self.runtime.stopping
        while not stopping.is_set():
            if not self._waiters:
                self._someone_waits.clear()
                idle = asyncio.ensure_future(self._someone_waits.wait())
                stop = asyncio.ensure_future(stopping.wait())
                await asyncio.wait({idle, stop}, return_when="FIRST_COMPLETED")
                idle.cancel()
                stop.cancel()
                continue
            try:
                await self._look()
            except Exception:
                log.exception("queue watcher check failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)

    async def _look(self) -> None:
        """One watcher check: assign if queued work changed; wake runners told to abort."""
        waiting_jobs = dict(self._waiting_jobs)
        async with self.runtime.db.session() as session:
            signature = tuple(
                (
                    await session.execute(
                        select(func.count(), func.max(Job.id), func.max(Job.updated_at)).where(
                            *is_waiting()
                        )
                    )
                ).one()
            )
            aborting: list[int] = []
            if waiting_jobs:
                aborting = list(
                    await session.scalars(
                        select(Job.runner_id).where(
                            Job.id.in_(waiting_jobs.values()),
                            Job.status.in_(ACTIVE),
                            Job.abort_requested.is_(True),
                        )
                    )
                )
        for runner_id in aborting:
            if runner_id is not None:
                self.wake(runner_id)
        if signature != self._signature:
            self._signature = signature
            if signature[0]:
                await self.assign()

    async def assign(self) -> None:
        """One assignment pass; the runners that got a job are woken."""
        changes = QueueChanges()
        async with queue_transaction(self.runtime.db, changes) as session:
            await assign_jobs(session, utcnow(), self.lease, changes)
        await changes.publish(self.runtime)

    async def reap_when_settled(self) -> bool:
        """Run the reaper, unless this instance started less than one lease ago.

        After a restart runners get one lease to reconnect before they are called lost: their
        sessions are kept in the database, but they could not renew them while we were down.
        Returns whether the reaper ran.
        """
        if time.monotonic() - self._started < self.runtime.settings.queue.lease_seconds:
            return False
        await reap(self.runtime)
        return True

    async def _reap(self) -> None:
        await self.reap_when_settled()
