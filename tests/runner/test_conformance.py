"""A Project-W 0.6 runner's exact conversation with the server, then the user's downloads."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.media import MediaFactory
from tests.runner.conftest import (
    LEGACY_SETTINGS_FIELDS,
    LegacyRunner,
    create_runner_token,
    upload,
)

# What WhisperX writes as its JSON result, and what a 0.6 runner sends as `as_json`.
WHISPERX_JSON = {
    "segments": [
        {
            "start": 0.12,
            "end": 1.5,
            "text": " Hello world.",
            "words": [
                {"word": "Hello", "start": 0.12, "end": 0.6, "score": 0.91},
                {"word": "world.", "start": 0.7, "end": 1.5, "score": 0.88},
            ],
        },
        {
            "start": 1.9,
            "end": 3.2,
            "text": " This is a test.",
            "words": [
                {"word": "This", "start": 1.9, "end": 2.1, "score": 0.9},
                {"word": "is", "start": 2.2, "end": 2.3, "score": 0.95},
                {"word": "a"},
                {"word": "test.", "start": 2.6, "end": 3.2, "score": 0.8},
            ],
        },
    ],
    "word_segments": [],
    "language": "en",
}
FIVE_FORMATS = {
    "as_txt": "Hello world.\nThis is a test.\n",
    "as_srt": "1\n00:00:00,120 --> 00:00:01,500\nHello world.\n\n",
    "as_tsv": "start\tend\ttext\n120\t1500\tHello world.\n",
    "as_vtt": "WEBVTT\n\n00:00.120 --> 00:01.500\nHello world.\n\n",
    "as_json": WHISPERX_JSON,
}


async def test_a_project_w_06_runner_does_a_job(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    _runner_id, token = await create_runner_token(admin_client, "old-runner")
    runner = LegacyRunner(client, token)
    runner_id = await runner.register()
    # Already online: 403; the old runner then unregisters and registers again.
    again = await client.post(
        "/api/runners/register",
        json={
            "name": "legacy",
            "priority": 100,
            "version": "0.6.0",
            "git_hash": "x",
            "source_code_url": "u",
        },
        headers=runner.headers,
    )
    assert again.status_code == 403
    assert again.headers["Content-Type"] == "application/json"
    await runner.post("/unregister")
    assert await runner.register() == runner_id

    recording = media.path("mp3")
    job = await upload(user_client, recording, {"email_notification": False, "language": "en"})

    # Heartbeats every few seconds (0.6 runners: every 10 s) until a job is assigned.
    for _ in range(20):
        beat = await runner.heartbeat()
        if beat["job_assigned"]:
            break
        await asyncio.sleep(0.5)
    assert (beat["abort"], beat["job_assigned"], beat["job_id"]) == (False, True, job["id"])
    # Our own extension (old runners ignore it): the new job's settings come along.
    assert beat["job"]["settings"]["language"] == "en"

    info = await runner.get("/retrieve_job_info")
    assert info["id"] == job["id"]
    assert set(info["settings"]) >= LEGACY_SETTINGS_FIELDS
    assert info["settings"]["language"] == "en"
    assert info["settings"]["email_notification"] is False

    audio = await runner.audio()
    assert audio.content == recording.read_bytes()
    status = (await user_client.get(f"/api/jobs/{job['id']}")).json()
    assert status["status"] == "running"
    assert (status["runner_id"], status["runner_name"]) == (runner_id, "legacy")

    assert await runner.heartbeat(progress=42.5) == {
        "abort": False,
        "job_assigned": True,
        "job_id": job["id"],
        "job": None,
    }
    assert (await user_client.get(f"/api/jobs/{job['id']}")).json()["progress"] == 42.5

    await runner.post("/submit_job_result", {"error_msg": None, "transcript": FIVE_FORMATS})
    assert (await runner.heartbeat())["job_assigned"] is False

    done = (await user_client.get(f"/api/jobs/{job['id']}")).json()
    assert done["status"] == "succeeded"
    downloads = {}
    for fmt in ("txt", "srt", "vtt", "tsv", "json"):
        response = await user_client.get(
            f"/api/jobs/{job['id']}/transcript", params={"format": fmt}
        )
        assert response.status_code == 200, response.text
        downloads[fmt] = response.text
    assert downloads["txt"].splitlines()[:2] == ["Hello world.", "This is a test."]
    assert "00:00:00,120 --> 00:00:01,500" in downloads["srt"]
    assert downloads["vtt"].startswith("WEBVTT")
    assert "00:00:01.900 --> 00:00:03.200\nThis is a test." in downloads["vtt"]
    assert "120\t1500\tHello world." in downloads["tsv"]
    canonical = json.loads(downloads["json"])
    words = [word["word"] for segment in canonical["segments"] for word in segment["words"]]
    assert words == ["Hello", "world.", "This", "is", "a", "test."]

    await runner.post("/unregister")
    listed = (await admin_client.get("/api/admin/runners")).json()
    entry = next(r for r in listed["runners"] if r["id"] == runner_id)
    assert entry["online"] is False
    assert entry["jobs_succeeded"] == 1
    assert entry["version"] == "0.6.0"
    assert entry["capabilities"] is None


async def test_an_old_runner_reports_an_error_and_an_abort(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    _runner_id, token = await create_runner_token(admin_client)
    runner = LegacyRunner(client, token)
    await runner.register()
    first = await upload(user_client, media.path("wav"))
    second = await upload(user_client, media.path("wav"))

    assert (await runner.heartbeat())["job_assigned"]
    await runner.get("/retrieve_job_info")
    await runner.audio()
    await runner.post("/submit_job_result", {"error_msg": "RuntimeError: 'CUDA out of memory'"})
    failed = (await user_client.get(f"/api/jobs/{first['id']}")).json()
    assert failed["status"] == "failed"
    assert failed["error_message"] == "RuntimeError: 'CUDA out of memory'"

    # Its next job is aborted while it runs: the heartbeat says so, the runner reports it.
    assert (await runner.heartbeat())["job_assigned"]
    await runner.get("/retrieve_job_info")
    await runner.audio()
    assert (await user_client.post(f"/api/jobs/{second['id']}/abort")).status_code == 200
    assert (await runner.heartbeat(progress=10))["abort"] is True
    await runner.post("/submit_job_result", {"error_msg": "job was aborted"})
    assert (await user_client.get(f"/api/jobs/{second['id']}")).json()["status"] == "aborted"
