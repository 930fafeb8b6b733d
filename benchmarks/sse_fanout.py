"""Server-sent events to 100 clients: time from a job changing to its event arriving, p50/p99.

Run: .venv/bin/python benchmarks/sse_fanout.py [--clients 100] [--changes 50]
         [--database-url URL]

A real `projectw serve` process is started on a fresh data dir; one user opens ``--clients``
event streams (as many browser tabs or devices would) over loopback HTTP. The benchmark then
aborts queued jobs one at a time; each abort is one `job_updated` event. A latency is measured
from just before the abort request is sent to the moment a client has parsed the event, so it
includes the request itself, the commit, the wake-up and every stream's read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from upload import sign_in, start_server

REQUESTS: list[float] = []
FIRST: list[float] = []


async def listen(
    url: str, token: str, arrivals: dict[int, list[float]], ready: asyncio.Event, counter: list[int]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=url, headers=headers, timeout=None) as http,
        http.stream("GET", "/api/events") as response,
    ):
        counter[0] += 1
        if counter[0] == counter[1]:
            ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data = json.loads(line[6:])
                if data.get("status") == "aborted":
                    arrivals.setdefault(data["job_id"], []).append(time.perf_counter())


async def run(url: str, token: str, clients: int, changes: int, sample: Path) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as api:
        job_ids = []
        for _ in range(changes):
            with sample.open("rb") as handle:
                response = await api.post("/api/jobs", files={"file": (sample.name, handle)})
            response.raise_for_status()
            job_ids.append(response.json()["id"])
        arrivals: dict[int, list[float]] = {}
        ready = asyncio.Event()
        counter = [0, clients]
        listeners = [
            asyncio.create_task(listen(url, token, arrivals, ready, counter))
            for _ in range(clients)
        ]
        await asyncio.wait_for(ready.wait(), 60)
        await asyncio.sleep(0.5)
        latencies: list[float] = []
        for job_id in job_ids:
            started = time.perf_counter()
            (await api.post(f"/api/jobs/{job_id}/abort")).raise_for_status()
            REQUESTS.append((time.perf_counter() - started) * 1000)
            deadline = time.perf_counter() + 10
            while len(arrivals.get(job_id, [])) < clients and time.perf_counter() < deadline:
                await asyncio.sleep(0.002)
            got = arrivals.get(job_id, [])
            if len(got) < clients:
                raise RuntimeError(f"only {len(got)} of {clients} clients got the event")
            latencies += [(moment - started) * 1000 for moment in got]
            FIRST.append((min(got) - started) * 1000)
            await asyncio.sleep(0.05)
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    env.update(PROJECTW_RUNNER__EMBEDDED="false", PROJECTW_LOG_LEVEL="warning")
    if args.database_url:
        env["PROJECTW_DATABASE_URL"] = args.database_url
    with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as work:
        sample = Path(work) / "sample.wav"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
             "sine=frequency=440:sample_rate=16000", "-t", "2", str(sample)],
            check=True,
        )  # fmt: skip
        process, url = start_server(data_dir, env)
        try:
            token = sign_in(url, data_dir, env)
            latencies = asyncio.run(run(url, token, args.clients, args.changes, sample))
        finally:
            process.terminate()
            process.wait(60)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    sys.stdout.write(
        f"database: {args.database_url or 'sqlite'}; {args.clients} clients, "
        f"{args.changes} changes, {len(latencies)} deliveries\n"
        f"change → event: p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, "
        f"max {latencies[-1]:.1f} ms\n"
        f"the change's own request: p50 {statistics.median(REQUESTS):.1f} ms; "
        f"first client reached after p50 {statistics.median(FIRST):.1f} ms\n"
    )


if __name__ == "__main__":
    main()
