"""Acting on jobs: abort, delete, retry (one and many), and the rules about shared recordings."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from projectw.db.base import utcnow
from projectw.db.models import Blob, Job
from projectw.runtime import Runtime
from tests.jobs.conftest import upload
from tests.media import MediaFactory


async def _submit(client: httpx.AsyncClient, media: MediaFactory, kind: str = "wav") -> int:
    response = await upload(client, media.path(kind))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def set_job(runtime: Runtime, job_id: int, **values: Any) -> None:
    """Put a job into a state as the queue would (runners are another part's business)."""
    async with runtime.db.session() as session, session.begin():
        job = await session.get(Job, job_id)
        assert job is not None
        for name, value in values.items():
            setattr(job, name, value)


async def _blob_count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Blob)) or 0)


async def test_a_queued_job_aborts_at_once(
    user_client: httpx.AsyncClient, media: MediaFactory
) -> None:
    job_id = await _submit(user_client, media)
    response = await user_client.post(f"/api/jobs/{job_id}/abort")
    assert response.status_code == 200
    job = response.json()
    assert job["status"] == "aborted"
    assert job["finished_at"] is not None
    assert job["error_code"] == "aborted"
    again = await user_client.post(f"/api/jobs/{job_id}/abort")
    assert again.status_code == 409
    assert again.json()["detail"] == f"Job {job_id} has already finished (aborted)."


async def test_a_running_job_is_asked_to_abort(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    job_id = await _submit(user_client, media)
    await set_job(runtime, job_id, status="running", started_at=utcnow(), progress=40.0)
    response = await user_client.post(f"/api/jobs/{job_id}/abort")
    assert response.status_code == 200
    assert response.json()["status"] == "running"
    assert response.json()["abort_requested"] is True
    deleting = await user_client.delete(f"/api/jobs/{job_id}")
    assert deleting.status_code == 409
    assert "abort it before deleting it" in deleting.json()["detail"]


async def test_deleting_a_finished_job_removes_its_recording_and_transcript(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    job_id = await _submit(user_client, media)
    await user_client.post(f"/api/jobs/{job_id}/abort")
    assert await _blob_count(runtime) == 1
    response = await user_client.delete(f"/api/jobs/{job_id}")
    assert response.status_code == 204
    assert await _blob_count(runtime) == 0
    assert (await user_client.get(f"/api/jobs/{job_id}")).status_code == 404
    assert (await user_client.delete(f"/api/jobs/{job_id}")).status_code == 404


async def test_retry_shares_the_recording_until_both_jobs_are_gone(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    path = media.path("mp3")
    original = await _submit(user_client, media, "mp3")
    settings = (await user_client.get(f"/api/jobs/{original}")).json()["settings"]
    early = await user_client.post(f"/api/jobs/{original}/retry")
    assert early.status_code == 409
    assert "only finished jobs retry" in early.json()["detail"]

    await set_job(runtime, original, status="failed", finished_at=utcnow(), error_message="x")
    response = await user_client.post(f"/api/jobs/{original}/retry")
    assert response.status_code == 201
    retry = response.json()
    assert retry["status"] == "queued"
    assert retry["retry_of_id"] == original
    assert retry["settings"] == settings
    assert retry["media"]["duration_seconds"] is not None
    assert await _blob_count(runtime) == 1

    assert (await user_client.delete(f"/api/jobs/{original}")).status_code == 204
    assert await _blob_count(runtime) == 1
    audio = await user_client.get(f"/api/jobs/{retry['id']}/audio")
    assert audio.content == path.read_bytes()
    await user_client.post(f"/api/jobs/{retry['id']}/abort")
    assert (await user_client.delete(f"/api/jobs/{retry['id']}")).status_code == 204
    assert await _blob_count(runtime) == 0


async def test_a_job_whose_recording_was_deleted_cannot_be_retried(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    job_id = await _submit(user_client, media)
    await user_client.post(f"/api/jobs/{job_id}/abort")
    await set_job(runtime, job_id, audio_blob_id=None, audio_deleted_at=utcnow())
    response = await user_client.post(f"/api/jobs/{job_id}/retry")
    assert response.status_code == 409
    assert "has been deleted, so it cannot be retried" in response.json()["detail"]
    audio = await user_client.get(f"/api/jobs/{job_id}/audio")
    assert audio.status_code == 404


async def test_bulk_actions_report_each_id(
    user_client: httpx.AsyncClient,
    other_user_client: httpx.AsyncClient,
    runtime: Runtime,
    media: MediaFactory,
) -> None:
    mine = [await _submit(user_client, media) for _ in range(3)]
    theirs = await _submit(other_user_client, media)
    await set_job(runtime, mine[2], status="running")

    aborted = await user_client.post("/api/jobs/abort", json={"ids": [*mine, theirs, 999999]})
    assert aborted.status_code == 200
    body = aborted.json()
    assert (body["succeeded"], body["failed"]) == (3, 2)
    by_id = {item["id"]: item for item in body["results"]}
    assert by_id[mine[0]]["job"]["status"] == "aborted"
    assert by_id[mine[2]]["job"]["abort_requested"] is True
    assert by_id[theirs] == {
        "id": theirs,
        "ok": False,
        "code": "not_found",
        "detail": f"There is no job {theirs}.",
        "job": None,
    }
    assert by_id[999999]["code"] == "not_found"

    retried = (await user_client.post("/api/jobs/retry", json={"ids": mine[:2]})).json()
    assert retried["succeeded"] == 2
    assert {item["job"]["retry_of_id"] for item in retried["results"]} == set(mine[:2])

    deleted = (await user_client.post("/api/jobs/delete", json={"ids": [*mine, theirs]})).json()
    assert [item["ok"] for item in deleted["results"]] == [True, True, False, False]
    assert deleted["results"][2]["code"] == "conflict"
    assert (await other_user_client.get(f"/api/jobs/{theirs}")).json()["status"] == "queued"


async def test_bulk_requests_need_ids(user_client: httpx.AsyncClient) -> None:
    response = await user_client.post("/api/jobs/abort", json={"ids": []})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Field 'ids'")
