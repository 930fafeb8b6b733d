"""GET /api/jobs with 100,000 jobs of one user: first page and a deep page, p50/p99.

Run: .venv/bin/python benchmarks/job_list.py [--jobs 100000] [--requests 300]
         [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench]

The first page's total is kept while none of the user's jobs changes; the case "after a
change" writes an event before each request, so that every request counts the total.

The app runs in this process (httpx's ASGI transport: no network, but routing, sign-in,
the queries and JSON all count). Jobs are inserted directly in the database. The deep page
is the one after job 50,000 in creation order, reached by its cursor like a client that paged
that far. A PostgreSQL database must exist and be empty; SQLite uses a temporary file.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import insert, select

from projectw.app import create_app
from projectw.config import Settings
from projectw.db.base import utcnow
from projectw.db.models import Event, Job, User
from projectw.jobs.listing import JobQuery, _encode_cursor
from projectw.runtime import Runtime
from tests.conftest import create_account

# Finished jobs only: a user with 100,000 jobs has nearly all of them finished, and queued
# jobs would measure the scheduler's passes over the queue instead of the listing.
STATUSES = ("succeeded", "succeeded", "succeeded", "failed", "aborted")


async def fill(runtime: Runtime, user_id: int, count: int) -> None:
    start = utcnow() - timedelta(days=365)
    batch: list[dict[str, Any]] = []
    for index in range(count):
        batch.append(
            {
                "user_id": user_id,
                "status": STATUSES[index % len(STATUSES)],
                "settings": {"model": "small", "language": None},
                "file_name": f"recording-{index:06d}.mp3",
                "size_bytes": 1_000_000 + index,
                "duration_seconds": 60.0 + index % 600,
                "created_at": start + timedelta(seconds=index * 30),
                "updated_at": start + timedelta(seconds=index * 30),
            }
        )
        if len(batch) == 5000 or index == count - 1:
            async with runtime.db.session() as session, session.begin():
                await session.execute(insert(Job), batch)
            batch = []


async def settle(runtime: Runtime) -> None:
    """Bring the planner's statistics up to date, as a running database does by itself.

    PostgreSQL's autovacuum visits a table soon after a bulk insert; until then every count
    must read the table's pages too, not only the index. A SQLite server refreshes its
    statistics when it starts (``PRAGMA optimize``); here the jobs were inserted after that.
    """
    if runtime.db.is_sqlite:
        async with runtime.db.write_engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE")
        return
    async with runtime.db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM ANALYZE jobs")


async def timed(client: httpx.AsyncClient, params: dict[str, Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.get("/api/jobs", params=params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == params.get("limit", 50)
    return times


async def timed_after_change(
    client: httpx.AsyncClient, runtime: Runtime, user_id: int, runs: int
) -> list[float]:
    """The first page, each time just after an event (a job changed): the total is counted."""
    times = []
    for _ in range(runs):
        async with runtime.db.session() as session, session.begin():
            await session.execute(
                insert(Event).values(user_id=user_id, type="job_updated", payload={})
            )
        started = time.perf_counter()
        response = await client.get("/api/jobs")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times


def describe(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{name}: p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.model_validate(
            {
                "data_dir": data_dir,
                "database_url": args.database_url
                or f"sqlite+aiosqlite:///{Path(data_dir) / 'bench.db'}",
                "runner": {"embedded": False},
                "log_level": "warning",
            }
        )
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
            runtime: Runtime = app.state.runtime
            account = await create_account(app)
            started = time.perf_counter()
            await fill(runtime, account.id, args.jobs)
            filled = time.perf_counter() - started
            await settle(runtime)
            async with runtime.db.session() as session:
                deep = (
                    await session.execute(
                        select(Job.created_at, Job.id)
                        .join(User)
                        .where(User.id == account.id)
                        .order_by(Job.created_at.desc(), Job.id.desc())
                        .offset(args.jobs // 2)
                        .limit(1)
                    )
                ).one()
            cursor = _encode_cursor(JobQuery(), deep.created_at, deep.id, args.jobs)
            headers = {"Authorization": f"Bearer {account.token}"}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers
            ) as client:
                await timed(client, {}, 10)
                first = await timed(client, {}, args.requests)
                changed = await timed_after_change(client, runtime, account.id, args.requests)
                deep_page = await timed(client, {"cursor": cursor}, args.requests)
                by_name = await timed(client, {"sort": "name", "order": "asc"}, args.requests)
                search = await timed(client, {"q": "recording-0001", "limit": 10}, args.requests)
                finished = await timed(client, {"status": ["succeeded", "failed"]}, args.requests)
    sys.stdout.write(
        f"database: {runtime.db.backend}; {args.jobs} jobs inserted in {filled:.1f} s; "
        f"{args.requests} requests each, 50 jobs a page\n"
        + "\n".join(
            [
                describe("first page (newest), total kept", first),
                describe("first page after a change, total counted", changed),
                describe(f"deep page (after job {args.jobs // 2})", deep_page),
                describe("first page by name", by_name),
                describe("search 'recording-0001' (10 hits)", search),
                describe("status filter (succeeded, failed)", finished),
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    asyncio.run(main())
