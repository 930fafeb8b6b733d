"""Queue throughput: many short jobs through dummy runners with zero work time.

Run: .venv/bin/python benchmarks/throughput.py [--jobs 1000] [--runners 8] [--embedded]
                                               [--mode queued|live] [--database-url URL]

A real `projectw serve` (SQLite in a fresh data dir, or an empty PostgreSQL database given with
--database-url) and N real `projectw runner --engine dummy` processes (or, with --embedded, the
server's own embedded runner) take 1-second WAV jobs.

- ``queued``: every job is uploaded first, then the runners start; the figure is jobs / (last
  finish - first assignment), from the server's own timestamps: the queue and runner path alone.
- ``live``: runners run while the jobs are uploaded by 4 concurrent clients; the figure is
  jobs / (last finish - first upload), uploads included.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.runner.processes import (
    RunnerProcess,
    create_runner_token,
    free_port,
    signed_in,
    upload,
)
from tests.serving import ServerProcess

ZERO_WORK = {
    "PROJECTW_RUNNER__ENGINE": "dummy",
    "PROJECTW_RUNNER__DUMMY_SECONDS_PER_AUDIO_SECOND": "0",
}


def make_recording(folder: Path) -> Path:
    path = folder / "one-second.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-ar",
            "16000",
            "-ac",
            "1",
            str(path),
        ],
        check=True,
    )
    return path


@contextmanager
def server(
    data: Path, port: int, embedded: bool, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    with ServerProcess(
        data, "--port", str(port), embedded_runner=embedded, env={**ZERO_WORK, **(env or {})}
    ) as process:
        process.wait_ready()
        try:
            yield process
        finally:
            process.stop()


def all_jobs(client: httpx.Client) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/jobs", params=params).json()
        jobs.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return jobs


def wait_all_finished(client: httpx.Client, count: int) -> list[dict[str, Any]]:
    while True:
        done = client.get(
            "/api/jobs", params={"status": ["succeeded", "failed"], "limit": 1}
        ).json()
        if done["total"] >= count:
            return all_jobs(client)
        time.sleep(0.2)


def upload_all(client: httpx.Client, recording: Path, count: int, workers: int) -> None:
    remaining = iter(range(count))
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client(base_url=str(client.base_url), headers=client.headers, timeout=60) as own:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                upload(own, recording)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its live children (the engine processes)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for member in [pid, *map(int, children)]:
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def stamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runners", type=int, default=8)
    parser.add_argument("--embedded", action="store_true", help="Use the embedded runner only.")
    parser.add_argument("--mode", choices=["queued", "live"], default="queued")
    parser.add_argument(
        "--database-url", help="An empty PostgreSQL database (default: SQLite in the data dir)."
    )
    args = parser.parse_args()
    env = {"PROJECTW_DATABASE_URL": args.database_url} if args.database_url else {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        data = folder / "server"
        port = free_port()
        recording = make_recording(folder)
        url = f"http://127.0.0.1:{port}"
        # Accounts first, with no runner anywhere, so that queued mode really queues.
        with server(data, port, embedded=False, env=env):
            user = signed_in(url, data, "bench@example.org", admin=True, env=env)
            stack.callback(user.close)
            tokens = [create_runner_token(data, f"bench-{i}", env) for i in range(args.runners)]
            if args.mode == "queued":
                started = time.perf_counter()
                upload_all(user, recording, args.jobs, 4)
                upload_seconds = time.perf_counter() - started
                sys.stdout.write(
                    f"uploaded {args.jobs} jobs in {upload_seconds:.1f} s "
                    f"({args.jobs / upload_seconds:.1f} uploads/s)\n"
                )
        process = stack.enter_context(server(data, port, embedded=args.embedded, env=env))
        runners: list[RunnerProcess] = []
        if not args.embedded:
            for number, token in enumerate(tokens):
                runner = RunnerProcess(
                    url, token, folder / f"runner-{number}", f"bench-{number}", ZERO_WORK
                )
                stack.enter_context(runner)
                runners.append(runner)
            for runner in runners:
                runner.wait_registered()
        cpu_before = {
            p: cpu_seconds(p) for p in [process.process.pid, *(r.process.pid for r in runners)]
        }
        first_upload = time.time()
        if args.mode == "live":
            upload_all(user, recording, args.jobs, 4)
        jobs = wait_all_finished(user, args.jobs)
        cpu = {p: cpu_seconds(p) - before for p, before in cpu_before.items()}
        succeeded = sum(1 for job in jobs if job["status"] == "succeeded")
        first_assigned = min(stamp(job["assigned_at"]) for job in jobs)
        last_finished = max(stamp(job["finished_at"]) for job in jobs)
        begin = first_upload if args.mode == "live" else first_assigned
        seconds = last_finished - begin
        who = "the embedded runner" if args.embedded else f"{args.runners} runners"
        sys.stdout.write(
            f"{succeeded}/{len(jobs)} jobs succeeded with {who} ({args.mode}): "
            f"{seconds:.1f} s, {len(jobs) / seconds:.1f} jobs/s\n"
        )
        server_cpu = cpu.pop(process.process.pid)
        sys.stdout.write(
            f"CPU per job: server {1000 * server_cpu / len(jobs):.1f} ms, runners "
            f"{1000 * sum(cpu.values()) / len(jobs):.1f} ms"
            f" (machine load {os.getloadavg()[0]:.1f})\n"
        )
    sys.exit(0 if succeeded == args.jobs else 1)


if __name__ == "__main__":
    main()
