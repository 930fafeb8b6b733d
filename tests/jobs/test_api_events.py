"""GET /api/events over real HTTP: live job events with changed fields, resume, isolation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from projectw.runtime import Runtime
from tests.conftest import Account
from tests.jobs.conftest import upload
from tests.media import MediaFactory


class EventReader:
    """Parses a text/event-stream response into (id, event, data) triples."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()
        self.comments: list[str] = []

    async def next(self, timeout: float = 10) -> tuple[int, str, dict[str, Any]]:
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> tuple[int, str, dict[str, Any]]:
        fields: dict[str, str] = {}
        async for line in self.lines:
            if line.startswith(":"):
                self.comments.append(line)
            elif line:
                name, _, value = line.partition(": ")
                fields[name] = value
            elif "event" in fields:
                return int(fields["id"]), fields["event"], json.loads(fields["data"])
            else:
                fields.clear()
        raise EOFError("the stream ended")


@asynccontextmanager
async def events_of(
    base_url: str, account: Account, headers: dict[str, str] | None = None, **params: Any
) -> AsyncIterator[EventReader]:
    auth = {"Authorization": f"Bearer {account.token}", **(headers or {})}
    async with (
        httpx.AsyncClient(base_url=base_url, headers=auth, timeout=30) as http,
        http.stream("GET", "/api/events", params=params) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        yield EventReader(response)


async def test_job_changes_arrive_with_their_fields(
    live_url: str,
    user_account: Account,
    other_user_account: Account,
    user_client: httpx.AsyncClient,
    other_user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    async with (
        events_of(live_url, user_account) as mine,
        events_of(live_url, other_user_account) as theirs,
    ):
        job = (await upload(user_client, media.path("wav"))).json()
        event_id, kind, data = await mine.next()
        assert kind == "job_created"
        assert data["job_id"] == job["id"]
        assert data["file_name"] == job["file_name"]
        assert data["status"] == "queued"
        assert data["media"] == job["media"]

        await user_client.post(f"/api/jobs/{job['id']}/abort")
        next_id, kind, data = await mine.next()
        assert next_id > event_id
        assert kind == "job_updated"
        assert data["job_id"] == job["id"]
        assert data["status"] == "aborted"
        assert data["error_code"] == "aborted"

        await user_client.delete(f"/api/jobs/{job['id']}")
        _id, kind, data = await mine.next()
        assert (kind, data) == ("job_deleted", {"job_id": job["id"]})

        # The other user's stream carried none of this: its first event is its own job.
        own = (await upload(other_user_client, media.path("wav"))).json()
        _id, kind, data = await theirs.next()
        assert (kind, data["job_id"]) == ("job_created", own["id"])


async def test_a_stream_resumes_after_last_event_id(
    live_url: str, user_account: Account, user_client: httpx.AsyncClient, media: MediaFactory
) -> None:
    async with events_of(live_url, user_account) as stream:
        job_id = (await upload(user_client, media.path("wav"))).json()["id"]
        created_id, _kind, _data = await stream.next()
    # Changes made while no stream is open.
    await user_client.post(f"/api/jobs/{job_id}/abort")
    await user_client.delete(f"/api/jobs/{job_id}")

    async with events_of(live_url, user_account, {"Last-Event-ID": str(created_id)}) as stream:
        _id, kind, data = await stream.next()
        assert (kind, data["job_id"], data["status"]) == ("job_updated", job_id, "aborted")
        assert (await stream.next())[1:] == ("job_deleted", {"job_id": job_id})
    async with events_of(live_url, user_account, last_event_id=created_id) as stream:
        kinds = [(await stream.next())[1], (await stream.next())[1]]
        assert kinds == ["job_updated", "job_deleted"]


async def test_a_bad_last_event_id_is_refused(
    user_client: httpx.AsyncClient,
) -> None:
    response = await user_client.get("/api/events", headers={"Last-Event-ID": "yesterday"})
    assert response.status_code == 422
    assert "Last-Event-ID" in response.json()["detail"]


async def test_streams_end_when_the_server_stops(
    live_url: str, user_account: Account, runtime: Runtime
) -> None:
    async with events_of(live_url, user_account) as stream:
        reading = asyncio.ensure_future(stream.next())
        await asyncio.sleep(0.1)
        runtime.stopping.set()
        try:
            await asyncio.wait_for(reading, 10)
        except EOFError:
            pass
        else:
            raise AssertionError("the stream should have ended")
