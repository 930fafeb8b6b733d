"""The engine host: runs an engine in a long-lived child process, outside the event loop.

Why a process and not a thread: the engine keeps its models loaded between jobs (the child
lives as long as the runner), yet

- an abort is always honoured: the child is asked to stop, and if the engine does not notice
  within the abort grace (``runner.abort_grace_seconds``; stuck in native code mid-segment)
  the child is killed and a new one started;
- a crash (out of memory, segfault, a corrupt model) kills only the child: that job fails with
  a clear message, a new child is started, and the runner keeps serving;
- heavy native work never holds the event loop's GIL, which matters for the runner embedded
  in the server process.

Parent and child talk over a ``multiprocessing`` pipe with small tuples:
parent → child ``("job", id, path, settings)``, ``("cancel", id)``, ``("exit",)``;
child → parent ``("ready", capabilities)``, ``("failed", message)``,
``("progress", id, stage, percent)``, ``("done", id, transcript)``, ``("error", id, message)``,
``("cancelled", id)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from projectw.runner.engines import create_engine
from projectw.runner.engines.base import Capabilities, EngineCancelled, EngineError
from projectw.transcripts.model import Transcript

log = logging.getLogger(__name__)

ABORT_GRACE_SECONDS = 0.5
# Seconds between two progress messages (stage changes and 100 % always go through).
_PROGRESS_INTERVAL = 0.2
_EXIT_WAIT_SECONDS = 5.0


class EngineCrashed(Exception):
    """The engine process died while it worked on a job."""


class EngineUnavailable(Exception):
    """The engine could not be started (unknown engine, missing model, bad settings)."""


# --- the child process -----------------------------------------------------------------------


def _child_main(
    conn: Connection, engine_name: str, options: Mapping[str, Any], log_level: str
) -> None:
    """Entry point of the engine process."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(message)

    try:
        engine = create_engine(engine_name, options)
        capabilities = engine.capabilities()
    except Exception as exc:
        log.exception("engine could not be started")
        send(("failed", str(exc) or type(exc).__name__))
        return
    send(("ready", capabilities.model_dump(mode="json")))
    jobs: queue.Queue[tuple[int, str, dict[str, Any], threading.Event] | None] = queue.Queue()
    cancel_flags: dict[int, threading.Event] = {}

    def read() -> None:
        # The pipe is read on its own thread so that a cancel arrives while the engine works.
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = ("exit",)
            if message[0] == "job":
                flag = threading.Event()
                cancel_flags[message[1]] = flag
                jobs.put((message[1], message[2], message[3], flag))
            elif message[0] == "cancel" and message[1] in cancel_flags:
                cancel_flags[message[1]].set()
            elif message[0] == "exit":
                for flag in cancel_flags.values():
                    flag.set()
                jobs.put(None)
                return

    threading.Thread(target=read, name="engine-pipe", daemon=True).start()
    try:
        while (job := jobs.get()) is not None:
            job_id, path, settings, flag = job
            send(_run_job(engine, job_id, Path(path), settings, flag, send))
            cancel_flags.pop(job_id, None)
    finally:
        engine.close()


def _run_job(
    engine: Any,
    job_id: int,
    audio: Path,
    settings: dict[str, Any],
    cancelled: threading.Event,
    send: Callable[[tuple[Any, ...]], None],
) -> tuple[Any, ...]:
    last_at = 0.0
    last_stage = ""

    def progress(stage: str, percent: float) -> None:
        nonlocal last_at, last_stage
        now = time.monotonic()
        if stage != last_stage or percent >= 100 or now - last_at >= _PROGRESS_INTERVAL:
            last_at, last_stage = now, stage
            send(("progress", job_id, stage, max(0.0, min(100.0, float(percent)))))

    try:
        transcript = engine.transcribe(audio, settings, progress, cancelled)
    except EngineCancelled:
        return ("cancelled", job_id)
    except EngineError as exc:
        return ("error", job_id, str(exc))
    except Exception as exc:
        log.exception("engine failed", extra={"job_id": job_id})
        return ("error", job_id, f"The engine failed: {type(exc).__name__}: {exc}")
    if cancelled.is_set():
        return ("cancelled", job_id)
    return ("done", job_id, transcript.model_dump(mode="json"))


# --- the parent side -------------------------------------------------------------------------


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


class EngineHost:
    """One engine process: started once, restarted after a crash or an ignored abort."""

    def __init__(
        self,
        engine: str,
        options: Mapping[str, Any],
        *,
        log_level: str = "info",
        abort_grace: float = ABORT_GRACE_SECONDS,
    ) -> None:
        self.engine = engine
        self.options = dict(options)
        self.log_level = log_level
        self.abort_grace = abort_grace
        self.capabilities: Capabilities | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._inbox: asyncio.Queue[tuple[Any, ...]] | None = None
        self._starting: asyncio.Task[Capabilities] | None = None
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> Capabilities:
        """Start the engine process (if not running) and return what it serves."""
        if self._process is not None and self._process.is_alive() and self.capabilities:
            return self.capabilities
        if self._starting is None or self._starting.done():
            self._starting = asyncio.create_task(self._spawn())
        return await asyncio.shield(self._starting)

    async def _spawn(self) -> Capabilities:
        await self._discard()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_child_main,
            args=(child, self.engine, self.options, self.log_level),
            name=f"projectw-engine-{self.engine}",
            daemon=True,
        )
        await asyncio.to_thread(process.start)
        child.close()
        inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def read() -> None:
            while True:
                try:
                    message = parent.recv()
                except (EOFError, OSError):
                    message = ("exited",)
                try:
                    loop.call_soon_threadsafe(inbox.put_nowait, message)
                except RuntimeError:
                    return  # the event loop is closed: nobody is listening any more
                if message[0] == "exited":
                    return

        threading.Thread(target=read, name="engine-host-pipe", daemon=True).start()
        self._process, self._conn, self._inbox = process, parent, inbox
        first = await inbox.get()
        if first[0] == "ready":
            self.capabilities = Capabilities.model_validate(first[1])
            log.info(
                "engine ready",
                extra={"engine": self.engine, "pid": process.pid, "dummy": self.engine == "dummy"},
            )
            return self.capabilities
        await self._discard()
        if first[0] == "failed":
            raise EngineUnavailable(f"The engine {self.engine!r} could not start: {first[1]}")
        raise EngineUnavailable(
            f"The engine {self.engine!r} stopped while starting "
            f"({_describe_exit(process.exitcode)})."
        )

    async def transcribe(
        self,
        job_id: int,
        audio: Path,
        settings: Mapping[str, Any],
        progress: Callable[[str, float], None],
        cancel: asyncio.Event,
    ) -> Transcript:
        """Transcribe in the engine process.

        Raises EngineError (the job cannot be done), EngineCancelled (``cancel`` was set) or
        EngineCrashed (the process died; a new one is started for the next job).
        """
        async with self._lock:
            await self.start()
            assert self._conn is not None and self._inbox is not None
            inbox = self._inbox
            self._conn.send(("job", job_id, str(audio), dict(settings)))
            cancel_wait = asyncio.ensure_future(cancel.wait())
            kill_at: float | None = None
            try:
                while True:
                    timeout = None if kill_at is None else max(0.0, kill_at - time.monotonic())
                    receive = asyncio.ensure_future(inbox.get())
                    done, _ = await asyncio.wait(
                        {receive, cancel_wait}, timeout=timeout, return_when="FIRST_COMPLETED"
                    )
                    if receive not in done:
                        receive.cancel()
                    if cancel_wait in done and kill_at is None:
                        self._conn.send(("cancel", job_id))
                        kill_at = time.monotonic() + self.abort_grace
                    if receive in done:
                        message = receive.result()
                        if message[0] == "exited":
                            raise await self._crashed()
                        result = self._outcome(message, job_id, progress)
                        if result is not None:
                            return result
                    elif kill_at is not None and time.monotonic() >= kill_at:
                        log.warning(
                            "engine ignored the abort; killing it",
                            extra={"job_id": job_id, "pid": self.pid},
                        )
                        await self._discard()
                        self._restart_soon()
                        raise EngineCancelled()
            finally:
                cancel_wait.cancel()

    def _outcome(
        self, message: tuple[Any, ...], job_id: int, progress: Callable[[str, float], None]
    ) -> Transcript | None:
        kind = message[0]
        if message[1] != job_id:
            return None
        if kind == "progress":
            progress(message[2], message[3])
            return None
        if kind == "done":
            return Transcript.model_validate(message[2])
        if kind == "cancelled":
            raise EngineCancelled()
        if kind == "error":
            raise EngineError(message[2])
        return None

    async def _crashed(self) -> EngineCrashed:
        process = self._process
        if process is not None:
            await asyncio.to_thread(process.join, _EXIT_WAIT_SECONDS)
        code = process.exitcode if process is not None else None
        log.error("engine process died", extra={"exit": _describe_exit(code)})
        await self._discard()
        self._restart_soon()
        return EngineCrashed(
            "The transcription engine crashed while working on this recording "
            f"({_describe_exit(code)})."
        )

    def _restart_soon(self) -> None:
        """Start a new engine process in the background, so the next job finds it warm."""

        async def restart() -> Capabilities:
            try:
                return await self._spawn()
            except EngineUnavailable:
                log.exception("engine could not be restarted")
                raise

        self._starting = asyncio.create_task(restart())
        self._starting.add_done_callback(lambda task: task.cancelled() or task.exception())

    async def _discard(self) -> None:
        """Kill the engine process, if any."""
        process, conn = self._process, self._conn
        self._process = self._conn = self._inbox = None
        if process is not None and process.is_alive():
            process.kill()
            await asyncio.to_thread(process.join, _EXIT_WAIT_SECONDS)
        if conn is not None:
            conn.close()

    async def close(self) -> None:
        """Ask the engine process to exit; kill it if it does not."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(BaseException):
                await self._starting
        process, conn = self._process, self._conn
        if process is not None and conn is not None and process.is_alive():
            with contextlib.suppress(OSError):
                conn.send(("exit",))
            await asyncio.to_thread(process.join, _EXIT_WAIT_SECONDS)
        await self._discard()
