"""The runner embedded in the server process (the appliance), started and stopped with it.

It is the same runner code as ``projectw runner`` and talks to its own server over loopback
HTTP: the exact path remote runners take (an in-process ASGI transport would buffer each
recording whole in memory). The server knows the port it bound, so no setting is needed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from projectw.jobs.queue.registry import embedded_runner_token
from projectw.runner.config import runner_config
from projectw.runner.loop import Runner

if TYPE_CHECKING:
    from projectw.runtime import Runtime

log = logging.getLogger(__name__)

EMBEDDED_NAME = "embedded"


def loopback_url(host: str, port: int) -> str:
    """How this process reaches its own listening socket."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def start_embedded_runner(runtime: Runtime, server_url: str, listening: Callable[[], bool]) -> None:
    """Run the embedded runner once the server listens, until the runtime stops."""

    async def run() -> None:
        while not listening():
            if runtime.stopping.is_set():
                return
            await asyncio.sleep(0.02)
        settings = runtime.settings
        name = settings.runner.name or EMBEDDED_NAME
        token = await embedded_runner_token(runtime, socket.gethostname()[:255], name)
        worker = Runner(
            runner_config(settings, server_url=server_url, token=token, default_name=name)
        )
        work = asyncio.create_task(worker.run())
        stopping = asyncio.ensure_future(runtime.stopping.wait())
        done, _ = await asyncio.wait({work, stopping}, return_when="FIRST_COMPLETED")
        stopping.cancel()
        if work not in done:
            # The server is going away: stop at once. Whatever the runner held is handed back
            # when it stops, or at the next start if the server was already gone.
            worker.stop(grace=0)
        await work

    runtime.spawn("embedded-runner", run)
