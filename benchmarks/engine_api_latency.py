"""`GET /api/jobs` latency while the embedded runner transcribes, against an idle appliance.

Run: .venv/bin/python benchmarks/engine_api_latency.py [--seconds 300] [--requests 400]

A `projectw serve` appliance (embedded runner, faster-whisper tiny.en, every core) transcribes a
5-minute recording; meanwhile one client sends `GET /api/jobs` back to back over loopback HTTP
(at most --requests, stopping when the job ends). The same number of requests is timed on the
idle appliance first. Goal: p99 under 50 ms while transcribing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.engine_support import appliance, percentile, report, speech_file, submit


def timed_list(client: httpx.Client) -> float:
    started = time.perf_counter()
    response = client.get("/api/jobs")
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def describe(name: str, times: list[float]) -> str:
    return (
        f"{name}: {len(times)} requests, p50 {statistics.median(times):.1f} ms, "
        f"p99 {percentile(times, 0.99):.1f} ms, max {max(times):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        audio, _length, _text = speech_file(Path(folder), args.seconds)
        with appliance(Path(folder) / "data") as (_server, client):
            idle = [timed_list(client) for _ in range(args.requests)]
            job_id = submit(client, audio)
            while client.get(f"/api/jobs/{job_id}").json()["stage"] != "transcribing":
                time.sleep(0.05)
            busy: list[float] = []
            while len(busy) < args.requests:
                busy.append(timed_list(client))
                if len(busy) % 25 == 0:
                    job = client.get(f"/api/jobs/{job_id}").json()
                    if job["status"] != "running":
                        break
            still_running = client.get(f"/api/jobs/{job_id}").json()["status"] == "running"
    report(describe("idle", idle))
    report(describe("while transcribing", busy) + ("" if still_running else " (job ended)"))


if __name__ == "__main__":
    main()
