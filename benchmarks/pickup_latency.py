"""Pickup latency: from a job being stored to a runner having it, with one idle runner.

Run: .venv/bin/python benchmarks/pickup_latency.py [--jobs 100] [--embedded]

A real `projectw serve` (SQLite in a fresh data dir) and one real `projectw runner --engine
dummy` with zero work time (or, with --embedded, the server's own runner). Jobs are uploaded
one at a time, each after the previous one finished, so the runner is idle and long-polling
every time. The latency of a job is ``assigned_at - created_at`` from the server's own
timestamps: upload handling is not counted, only the wait for a runner. Project-W 0.6 runners
learn about work at their next heartbeat, every 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from throughput import ZERO_WORK, make_recording, server, stamp

from tests.runner.processes import (
    RunnerProcess,
    create_runner_token,
    free_port,
    signed_in,
    upload,
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--embedded", action="store_true", help="Use the embedded runner.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        data = folder / "server"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        recording = make_recording(folder)
        stack.enter_context(server(data, port, embedded=args.embedded))
        user = signed_in(url, data, "bench@example.org", admin=True)
        stack.callback(user.close)
        if not args.embedded:
            token = create_runner_token(data, "bench")
            runner = stack.enter_context(
                RunnerProcess(url, token, folder / "runner", "bench", ZERO_WORK)
            )
            runner.wait_registered()
        latencies: list[float] = []
        for _ in range(args.jobs):
            job_id = upload(user, recording)
            while True:
                job = user.get(f"/api/jobs/{job_id}").json()
                if job["status"] in ("succeeded", "failed"):
                    break
                time.sleep(0.01)
            latencies.append(1000 * (stamp(job["assigned_at"]) - stamp(job["created_at"])))
            # Let the runner settle back into its long poll.
            time.sleep(0.05)
        who = "embedded runner" if args.embedded else "remote runner"
        sys.stdout.write(
            f"{len(latencies)} jobs, one idle {who}: pickup p50 "
            f"{statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
            f"max {max(latencies):.1f} ms\n"
        )


if __name__ == "__main__":
    main()
