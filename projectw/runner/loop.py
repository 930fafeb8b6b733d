"""The runner's work loop: register, wait for a job, transcribe it, report, repeat.

Unlike Project-W 0.6 runners it does not give up when the server is briefly unreachable: every
call is retried with backoff, a job keeps running meanwhile, and a closed session (the server
thought the runner dead) is answered by registering again. ``stop`` is the graceful way out
(SIGTERM): no new work is taken, the current job may finish within the shutdown grace, else it
is stopped and handed back to the queue, and the runner unregisters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx

from projectw.protocol import (
    HeartbeatRequest,
    JobInfoResponse,
    RegisterRequest,
    SubmitResultRequest,
)
from projectw.runner.client import (
    AlreadyOnline,
    NoJob,
    ServerClient,
    ServerRefused,
    ServerUnavailable,
    SessionClosed,
)
from projectw.runner.config import RunnerConfig
from projectw.runner.engines.base import Capabilities, EngineCancelled, EngineError
from projectw.runner.host import EngineCrashed, EngineHost
from projectw.transcripts.model import Transcript

log = logging.getLogger(__name__)

T = TypeVar("T")

ABORTED = "The job was aborted."
BACKOFF_START = 0.5
BACKOFF_MAX = 10.0
# Bound on the calls made while shutting down, so a dead server cannot hold the runner.
SHUTDOWN_CALL_TIMEOUT = 5.0
# A job's first heartbeat goes out after this long (then one every `heartbeat_seconds`).
FIRST_BEAT_SECONDS = 0.5


class Stopped(Exception):
    """The runner was asked to stop while it waited."""


class Backoff:
    """Growing, jittered pauses between retries."""

    def __init__(self) -> None:
        self.delay = BACKOFF_START
        self.failures = 0

    def next(self) -> float:
        self.failures += 1
        pause = self.delay * random.uniform(0.8, 1.2)
        self.delay = min(self.delay * 2, BACKOFF_MAX)
        return pause


class Runner:
    """One runner: an engine host and a connection to one server."""

    def __init__(
        self,
        config: RunnerConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        host: EngineHost | None = None,
    ) -> None:
        self.config = config
        self.host = host or EngineHost(
            config.engine,
            config.engine_options,
            log_level=config.log_level,
            abort_grace=config.abort_grace_seconds,
        )
        self._transport = transport
        self._stop = asyncio.Event()
        self._stop_deadline: float | None = None
        self._progress: tuple[str | None, float] = (None, 0.0)
        self.registered = asyncio.Event()
        self.jobs_done = 0

    def stop(self, grace: float | None = None) -> None:
        """Stop taking work; let the current job finish within ``grace`` seconds, then leave."""
        grace = self.config.shutdown_grace_seconds if grace is None else grace
        deadline = time.monotonic() + grace
        if self._stop_deadline is None or deadline < self._stop_deadline:
            self._stop_deadline = deadline
        self._stop.set()

    async def run(self) -> None:
        """Serve until ``stop``; raises EngineUnavailable or TokenRejected when it cannot."""
        capabilities = await self.host.start()
        if self.config.engine == "dummy":
            log.warning(
                "this runner uses the dummy engine: it returns a fixed text, not a transcription"
            )
        try:
            async with ServerClient(
                self.config.server_url, self.config.token, transport=self._transport
            ) as client:
                try:
                    while not self._stop.is_set():
                        try:
                            await self._register(client, capabilities)
                            await self._serve(client)
                        except SessionClosed as exc:
                            self.registered.clear()
                            log.warning("session closed by the server; registering again: %s", exc)
                        except Stopped:
                            break
                finally:
                    self.registered.clear()
                    if client.session_token is not None:
                        with contextlib.suppress(ServerUnavailable, ServerRefused):
                            await client.unregister(timeout=SHUTDOWN_CALL_TIMEOUT)
                            log.info("runner unregistered")
        finally:
            await self.host.close()

    # --- calling the server ------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        """Sleep, or raise Stopped as soon as a stop is requested."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        if self._stop.is_set():
            raise Stopped()

    async def _until_stopped(self, call: Awaitable[T]) -> T:
        """Await ``call``; abandon it and raise Stopped if a stop is requested meanwhile."""
        task = asyncio.ensure_future(call)
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stop}, return_when="FIRST_COMPLETED")
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise Stopped()
        return task.result()

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]], *, stoppable: bool) -> T:
        """Call until the server answers; ServerRefused and its kinds go to the caller."""
        backoff = Backoff()
        while True:
            try:
                result = await (self._until_stopped(call()) if stoppable else call())
            except ServerUnavailable as exc:
                pause = backoff.next()
                log_at = (
                    logging.WARNING
                    if backoff.failures in (1, 5) or backoff.failures % 20 == 0
                    else logging.DEBUG
                )
                log.log(log_at, "%s failed, retrying in %.1f s: %s", what, pause, exc)
                if stoppable:
                    await self._sleep(pause)
                elif self._stop_deadline is not None and time.monotonic() > self._stop_deadline:
                    raise Stopped() from None
                else:
                    await asyncio.sleep(pause)
                continue
            if backoff.failures:
                log.info("%s succeeded again after %d failed attempts", what, backoff.failures)
            return result

    async def _register(self, client: ServerClient, capabilities: Capabilities) -> None:
        request = RegisterRequest(
            name=self.config.name,
            version=self.config.version[:100],
            git_hash=self.config.git_hash[:40],
            source_code_url=self.config.source_code_url,
            priority=self.config.priority,
            capabilities=capabilities,
        )
        while True:
            try:
                answer = await self._retrying(
                    "registering", lambda: client.register(request), stoppable=True
                )
                break
            except AlreadyOnline:
                # A previous process of this runner died without unregistering.
                log.warning("runner is still online from an earlier start; closing that session")
                await self._retrying(
                    "unregistering", lambda: client.unregister(orderly=False), stoppable=True
                )
        self.registered.set()
        log.info(
            "runner registered",
            extra={
                "runner_id": answer.id,
                "engine": self.config.engine,
                "runner_name": self.config.name,
            },
        )

    # --- serving -----------------------------------------------------------------------------

    async def _serve(self, client: ServerClient) -> None:
        """Wait for jobs and do them, until stopped (raises Stopped) or the session closes."""
        wait = self.config.long_poll_seconds
        job: JobInfoResponse | None = None
        while True:
            if self._stop.is_set():
                raise Stopped()
            aborted = False
            if job is None:
                beat = await self._retrying(
                    "heartbeat",
                    lambda: client.heartbeat(HeartbeatRequest(), wait=wait),
                    stoppable=True,
                )
                if not beat.job_assigned:
                    if not wait:
                        await self._sleep(self.config.heartbeat_seconds)
                    continue
                aborted = beat.abort
                try:
                    current = beat.job or await self._job_info(client)
                except NoJob:
                    continue
            else:
                current = job
            if aborted:
                job = await self._report(
                    client,
                    SubmitResultRequest(error_msg=ABORTED, error_code="aborted", job_id=current.id),
                )
            else:
                job = await self._work(client, current)

    async def _job_info(self, client: ServerClient) -> JobInfoResponse:
        return await self._retrying("fetching the job", client.job_info, stoppable=False)

    async def _work(self, client: ServerClient, job: JobInfoResponse) -> JobInfoResponse | None:
        """Do a job from fetching its recording to reporting the result; the next job, if any."""
        log.info("job started", extra={"job_id": job.id})
        with tempfile.TemporaryDirectory(prefix="projectw-job-", dir=self._work_dir()) as folder:
            audio = Path(folder) / "audio"
            try:
                await self._retrying(
                    "fetching the recording",
                    lambda: client.download_audio(audio),
                    stoppable=False,
                )
            except ServerRefused as exc:
                log.warning("job %s cannot be fetched: %s", job.id, exc)
                return None
            result = await self._transcribe(client, job.id, audio, job.settings)
        if result is None:
            return None
        return await self._report(client, result)

    def _work_dir(self) -> Path | None:
        folder = self.config.work_dir
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    async def _report(
        self, client: ServerClient, result: SubmitResultRequest
    ) -> JobInfoResponse | None:
        """Report a result; the server's answer may hand over the next job at once."""
        try:
            answer = await self._retrying(
                "reporting the result", lambda: client.submit(result), stoppable=False
            )
        except NoJob:
            log.warning("job %s was taken back by the server; result dropped", result.job_id)
            return None
        self.jobs_done += 1
        outcome = "failed" if result.error_msg else "succeeded"
        log.info("job reported", extra={"job_id": result.job_id, "outcome": outcome})
        return answer.next_job

    def _on_progress(self, stage: str, percent: float) -> None:
        self._progress = (stage, percent)

    async def _transcribe(
        self, client: ServerClient, job_id: int, audio: Path, settings: dict[str, object]
    ) -> SubmitResultRequest | None:
        """Run the engine while heartbeats carry progress; None if the job was handed back."""
        self._progress = (None, 0.0)
        cancel = asyncio.Event()
        work = asyncio.create_task(
            self.host.transcribe(job_id, audio, settings, self._on_progress, cancel)
        )
        handed_back = False
        try:
            # Short jobs end before their first heartbeat: one request less per job. An abort
            # in this window is answered by that first heartbeat at once.
            await asyncio.wait(
                {work}, timeout=min(FIRST_BEAT_SECONDS, self.config.heartbeat_seconds)
            )
            while not work.done():
                deadline = self._stop_deadline
                if deadline is not None and time.monotonic() >= deadline and not cancel.is_set():
                    log.warning("shutdown grace over; handing job %s back", job_id)
                    handed_back = True
                    cancel.set()
                if cancel.is_set():
                    # The engine is stopping (within the host's abort grace); no news to await.
                    await asyncio.wait({work}, timeout=self.config.heartbeat_seconds)
                    continue
                if await self._working_beat(client, job_id, work):
                    cancel.set()
        except BaseException:
            cancel.set()
            with contextlib.suppress(BaseException):
                await work
            raise
        try:
            transcript = work.result()
        except EngineCancelled:
            if handed_back:
                await self._hand_back(client)
                return None
            return SubmitResultRequest(error_msg=ABORTED, error_code="aborted", job_id=job_id)
        except EngineCrashed as exc:
            return SubmitResultRequest(
                error_msg=str(exc), error_code="engine_crashed", job_id=job_id
            )
        except EngineError as exc:
            return SubmitResultRequest(error_msg=str(exc), error_code="engine_error", job_id=job_id)
        return SubmitResultRequest(result=transcript, job_id=job_id)

    async def _working_beat(
        self, client: ServerClient, job_id: int, work: asyncio.Task[Transcript]
    ) -> bool:
        """One heartbeat while the engine works; whether the job must stop.

        The heartbeat carries the progress and long-polls for up to ``heartbeat_seconds``: the
        server answers it at once when the job is aborted, so an abort reaches the engine in
        milliseconds rather than at the next beat. It returns early when the work ends.
        """
        interval = self.config.heartbeat_seconds
        started = time.monotonic()
        stage, percent = self._progress
        request = HeartbeatRequest(
            progress=percent, stage=stage, accepting_jobs=not self._stop.is_set()
        )
        beat = asyncio.ensure_future(client.heartbeat(request, wait=interval))
        await asyncio.wait({work, beat}, return_when="FIRST_COMPLETED")
        if not beat.done():
            beat.cancel()
            with contextlib.suppress(BaseException):
                await beat
            return False
        try:
            answer = beat.result()
        except ServerUnavailable as exc:
            log.debug("heartbeat failed while working: %s", exc)
            answer = None
        if answer is not None and (answer.abort or answer.job_id != job_id):
            return True
        # A server that answers at once (no long poll, or unreachable) is not asked again
        # before the interval is over.
        remaining = interval - (time.monotonic() - started)
        if remaining > 0:
            await asyncio.wait({work}, timeout=remaining)
        return False

    async def _hand_back(self, client: ServerClient) -> None:
        """Give the job back to the queue by closing the session in order."""
        with contextlib.suppress(ServerUnavailable, ServerRefused):
            await client.unregister(timeout=SHUTDOWN_CALL_TIMEOUT)
        self.registered.clear()
        raise Stopped()
