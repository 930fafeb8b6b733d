"""Real `projectw` processes for the runner tests: a server's accounts, runner processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "Correct-Horse-Battery-9"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    environment.update(extra or {})
    return environment


def projectw_cli(
    data_dir: Path, *args: str, stdin: str = "", env: Mapping[str, str] | None = None
) -> str:
    """Run `projectw ARGS --data-dir DATA_DIR`; its standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "projectw", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_environment(env),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def create_runner_token(data_dir: Path, name: str, env: Mapping[str, str] | None = None) -> str:
    return projectw_cli(data_dir, "admin", "create-runner-token", "--name", name, env=env).strip()


def signed_in(
    url: str,
    data_dir: Path,
    email: str,
    *,
    admin: bool = False,
    env: Mapping[str, str] | None = None,
) -> httpx.Client:
    """A client of the server at ``url`` signed in as a new account made with the CLI."""
    flags = ["--admin"] if admin else []
    projectw_cli(
        data_dir,
        "admin",
        "create-user",
        email,
        *flags,
        "--password-stdin",
        stdin=PASSWORD + "\n",
        env=env,
    )
    client = httpx.Client(base_url=url, timeout=30)
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client


class RunnerProcess:
    """A `python -m projectw runner` child process (dummy engine unless told) with its log lines
    collected."""

    def __init__(
        self,
        url: str,
        token: str,
        data_dir: Path,
        name: str,
        env: Mapping[str, str] | None = None,
        *,
        engine: str = "dummy",
    ) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "projectw",
                "runner",
                "--url",
                url,
                "--engine",
                engine,
                "--name",
                name,
                "--data-dir",
                str(data_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_environment({"PROJECTW_RUNNER_TOKEN": token, **(env or {})}),
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def jobs_started(self) -> list[int]:
        found = (re.search(r"job started job_id=(\d+)", line) for line in self.lines)
        return [int(match.group(1)) for match in found if match]

    def wait_registered(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any("runner registered" in line for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"runner {self.name} did not register:\n" + self.log())
            time.sleep(0.05)

    def log(self) -> str:
        return "\n".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)

    def __enter__(self) -> RunnerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)
        if self.process.stderr is not None:
            self.process.stderr.close()


def upload(client: httpx.Client, path: Path) -> int:
    with path.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": (path.name, handle)})
    assert response.status_code == 201, response.text
    job_id: int = response.json()["id"]
    return job_id


def jobs_of(client: httpx.Client) -> dict[int, dict[str, Any]]:
    body = client.get("/api/jobs", params={"limit": 200}).json()
    return {job["id"]: job for job in body["items"]}


def wait_until_finished(
    clients: list[httpx.Client], expected: int, timeout: float = 240
) -> dict[int, dict[str, Any]]:
    """Poll until ``expected`` jobs of these users have finished; every job by id."""
    deadline = time.monotonic() + timeout
    while True:
        jobs: dict[int, dict[str, Any]] = {}
        try:
            for client in clients:
                jobs.update(jobs_of(client))
        except httpx.TransportError:
            jobs = {}
        finished = [j for j in jobs.values() if j["status"] in ("succeeded", "failed", "aborted")]
        if len(finished) >= expected:
            return jobs
        assert time.monotonic() < deadline, f"{len(finished)} of {expected} jobs finished"
        time.sleep(0.25)
