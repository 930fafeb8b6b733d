"""POST /api/auth/login with the production argon2id parameters: p50/p99 latency.

Run: .venv/bin/python benchmarks/login_latency.py [--requests 200] [--concurrency 1]

The app runs in this process (httpx's ASGI transport: no network, but routing, the rate
limiter, the user look-up, argon2id verification in a worker thread, the new session row
and JSON all count) on a temporary SQLite database. The hashing cost is the one a real
server uses (OWASP: argon2id, 19 MiB, 2 iterations, 1 lane); the rate limits are raised so
that the benchmark measures sign-in, not refusals. A third of the requests use a wrong
password and a third an unknown address: those two must cost the same.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from projectw.app import create_app
from projectw.auth.admin import AdminUserService
from projectw.auth.passwords import passwords_for
from projectw.config import Settings

PASSWORD = "correct horse battery staple"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(requests: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.model_validate(
            {
                "data_dir": folder,
                "database_url": f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
                "secret_key": secrets.token_urlsafe(40),
                "runner": {"embedded": False},
                "auth": {
                    "rate_limits": {
                        "login_per_address": 1_000_000,
                        "login_failures_per_account": 1_000_000,
                    }
                },
            }
        )
        passwords = passwords_for(settings.auth)
        parameters = passwords.parameters
        stored = await passwords.hash(PASSWORD)
        bare: list[float] = []
        for _ in range(20):
            started = time.perf_counter()
            await passwords.verify(stored, PASSWORD)
            bare.append((time.perf_counter() - started) * 1000)
        app = create_app(settings)
        async with LifespanManager(app):
            runtime = app.state.runtime
            service = AdminUserService(runtime.db, settings, runtime.mail)
            await service.create_user("bench@example.org", password=PASSWORD, from_cli=True)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                ok: list[float] = []
                wrong: list[float] = []
                unknown: list[float] = []
                semaphore = asyncio.Semaphore(concurrency)

                async def one(index: int) -> None:
                    kind = index % 3
                    email = "nobody@example.org" if kind == 2 else "bench@example.org"
                    body = {"email": email, "password": PASSWORD if kind == 0 else "x" * 20}
                    async with semaphore:
                        started = time.perf_counter()
                        response = await client.post("/api/auth/login", json=body)
                        elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == (200 if kind == 0 else 401), response.text
                    (ok, wrong, unknown)[kind].append(elapsed)

                await one(0)  # warm-up: imports, first connection
                ok.clear()
                await asyncio.gather(*(one(index) for index in range(requests)))
    every = ok + wrong + unknown
    time_cost, memory_kib, lanes = parameters
    sys.stdout.write(
        f"argon2id t={time_cost} m={memory_kib} KiB p={lanes}; {requests} logins, "
        f"concurrency {concurrency}\n"
        f"all:      p50 {statistics.median(every):6.1f} ms  p99 {percentile(every, 0.99):6.1f} ms\n"
        f"success:  p50 {statistics.median(ok):6.1f} ms  p99 {percentile(ok, 0.99):6.1f} ms\n"
        f"wrong pw: p50 {statistics.median(wrong):6.1f} ms  p99 {percentile(wrong, 0.99):6.1f} ms\n"
        f"unknown:  p50 {statistics.median(unknown):6.1f} ms  "
        f"p99 {percentile(unknown, 0.99):6.1f} ms\n"
        f"argon2id verify alone, same moment: p50 {statistics.median(bare):.1f} ms\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.requests, arguments.concurrency))


if __name__ == "__main__":
    main()
