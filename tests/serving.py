"""Start real `projectw serve` processes for tests and wait until they answer."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

URL_LINE = re.compile(r"Project-W is running at (http://\S+?)/?$")


class ServerProcess:
    """A `python -m projectw serve` child process with its output collected."""

    def __init__(
        self,
        data_dir: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
        embedded_runner: bool = False,
        command: list[str] | None = None,
    ) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
        environment["PROJECTW_RUNNER__EMBEDDED"] = "true" if embedded_runner else "false"
        environment.update(env or {})
        self.process = subprocess.Popen(
            [
                *(command or [sys.executable, "-m", "projectw"]),
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._url_found = threading.Event()
        self.url = ""
        self._readers = [
            threading.Thread(target=self._read, args=(stream, into), daemon=True)
            for stream, into in (
                (self.process.stdout, self.stdout),
                (self.process.stderr, self.stderr),
            )
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            into.append(line.rstrip("\n"))
            match = URL_LINE.search(line.strip())
            if match and not self.url:
                self.url = match.group(1)
                self._url_found.set()

    def wait_ready(self, timeout: float = 60) -> str:
        """Wait for the printed URL and a 200 from /readyz; return the base URL."""
        deadline = time.monotonic() + timeout
        while not self._url_found.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + "\n".join(self.stderr))
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self.url
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server never became ready:\n" + "\n".join(self.stderr))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Send ``sig`` and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        for reader in self._readers:
            reader.join(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
