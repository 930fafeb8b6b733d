"""Running the app under uvicorn: bind, announce, graceful bounded shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
import webbrowser
from collections.abc import Callable, Generator

import uvicorn

from projectw.app import create_app
from projectw.auth.setup import setup_link_if_needed
from projectw.config import Settings
from projectw.errors import StartupError
from projectw.jobs.queue.embedded import loopback_url, start_embedded_runner
from projectw.runtime import Runtime


class _Server(uvicorn.Server):
    """uvicorn's server, but a handled SIGINT/SIGTERM ends the process with exit code 0."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handle(sig: int, _frame: object) -> None:
            self._on_exit()
            self.handle_exit(sig, None)

        originals = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, original in originals.items():
                signal.signal(sig, original)


def bind_socket(host: str, port: int) -> socket.socket:
    """Listen address, bound now so that port 0 resolves before anything is printed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it a keep-alive response waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


async def serve(
    settings: Settings,
    announce: Callable[[str], None],
    open_browser: bool = False,
    announce_setup: Callable[[str], None] | None = None,
) -> None:
    """Start the runtime, then serve HTTP until a signal asks us to stop.

    With no accounts yet, a one-time setup link is passed to ``announce_setup`` (and opened
    instead of the start page with ``open_browser``).
    """
    sock = bind_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    settings = settings.model_copy(update={"port": port})
    try:
        runtime = await Runtime.start(settings)
    except BaseException:
        sock.close()
        raise
    try:
        config = uvicorn.Config(
            create_app(settings, runtime),
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout)),
        )
        server = _Server(config, on_exit=runtime.stopping.set)
        if settings.runner.embedded:
            start_embedded_runner(
                runtime, loopback_url(settings.host, port), lambda: bool(server.started)
            )

        async def announce_when_started() -> None:
            while not server.started:
                if server.should_exit:
                    return
                await asyncio.sleep(0.02)
            url = settings.base_url(port) + "/"
            announce(url)
            setup_url = await setup_link_if_needed(runtime.db, settings, settings.base_url(port))
            if setup_url is not None:
                if announce_setup is not None:
                    announce_setup(setup_url)
                url = setup_url
            if open_browser:
                await asyncio.to_thread(webbrowser.open, url)

        announcer = asyncio.create_task(announce_when_started())
        await server.serve(sockets=[sock])
        announcer.cancel()
    finally:
        sock.close()
        await runtime.stop()
