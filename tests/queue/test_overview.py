"""The admin's queue at a glance counts jobs by status (finished ones over the last day)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from projectw.db.base import utcnow
from projectw.db.models import Job
from tests.conftest import Account


async def test_queue_overview_counts_by_status(
    app: FastAPI,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    user_account: Account,
) -> None:
    runtime = app.state.runtime
    now = utcnow()
    rows = [
        ("queued", None),
        ("queued", None),
        ("assigned", None),
        ("running", None),
        ("succeeded", now - timedelta(hours=2)),
        ("succeeded", now - timedelta(days=2)),
        ("failed", now - timedelta(hours=23)),
        ("aborted", now - timedelta(minutes=5)),
    ]
    async with runtime.db.write_session() as session, session.begin():
        for status, finished_at in rows:
            session.add(
                Job(
                    user_id=user_account.id,
                    status=status,
                    settings={},
                    file_name=f"{status}.wav",
                    finished_at=finished_at,
                )
            )
    response = await admin_client.get("/api/admin/queue")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "queued": 2,
        "assigned": 1,
        "running": 1,
        "succeeded_last_day": 1,
        "failed_last_day": 1,
        "aborted_last_day": 1,
    }
    assert (await user_client.get("/api/admin/queue")).status_code == 403
