"""POST /api/jobs with real media: accepted formats, refusals that leave nothing behind."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from projectw.db.models import Blob, BlobChunk, Event, Job
from projectw.runtime import Runtime
from tests.jobs.conftest import TEST_MAX_UPLOAD_BYTES, upload
from tests.media import MediaFactory


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _nothing_left(runtime: Runtime) -> None:
    for model in (Job, Blob, BlobChunk, Event):
        assert await _count(runtime, model) == 0, model.__name__
    assert list(runtime.settings.paths.tmp_dir.glob("upload-*")) == []


@pytest.mark.parametrize(
    ("kind", "container", "codec", "media_type"),
    [
        ("wav", "wav", "pcm_s16le", "audio/wav"),
        ("mp3", "mp3", "mp3", "audio/mpeg"),
        ("ogg", "ogg", "opus", "audio/ogg"),
        ("opus", "ogg", "opus", "audio/ogg"),
        ("m4a", "mp4", "aac", "audio/mp4"),
        ("flac", "flac", "flac", "audio/flac"),
        ("webm", "matroska", "opus", "video/webm"),
        ("video", "mp4", "aac", "video/mp4"),
        ("mkv", "matroska", "flac", "video/x-matroska"),
    ],
)
async def test_common_formats_are_accepted_and_described(
    user_client: httpx.AsyncClient,
    runtime: Runtime,
    media: MediaFactory,
    kind: str,
    container: str,
    codec: str,
    media_type: str,
) -> None:
    path = media.path(kind)
    response = await upload(user_client, path)
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "queued"
    assert job["file_name"] == path.name
    assert job["media"]["container"] == container
    assert job["media"]["codec"] == codec
    assert job["media"]["content_type"] == media_type
    assert job["media"]["channels"] == 1
    assert job["media"]["size_bytes"] == path.stat().st_size
    assert 2.5 < job["media"]["duration_seconds"] < 6
    assert job["audio_available"] is True
    assert job["settings"]["model"] == "small"
    stored = await user_client.get(f"/api/jobs/{job['id']}/audio")
    assert stored.status_code == 200
    assert stored.content == path.read_bytes()
    assert stored.headers["content-type"] == media_type
    assert list(runtime.settings.paths.tmp_dir.glob("upload-*")) == []


@pytest.mark.parametrize(
    ("kind", "status", "code", "sentence"),
    [
        ("video_without_audio", 415, "unsupported_media", "no audio track"),
        ("truncated", 422, "media_unreadable", "seems truncated"),
        ("text", 422, "media_unreadable", "could not be read as audio or video"),
        ("empty", 422, "media_unreadable", "The file is empty."),
    ],
)
async def test_unusable_files_are_refused_and_leave_nothing(
    user_client: httpx.AsyncClient,
    runtime: Runtime,
    media: MediaFactory,
    kind: str,
    status: int,
    code: str,
    sentence: str,
) -> None:
    response = await upload(user_client, media.path(kind))
    assert response.status_code == status
    assert response.json()["code"] == code
    assert sentence in response.json()["detail"]
    await _nothing_left(runtime)


async def test_a_too_large_upload_is_refused_and_leaves_nothing(
    user_client: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    big = tmp_path / "big.wav"
    big.write_bytes(os.urandom(TEST_MAX_UPLOAD_BYTES + 1))
    response = await upload(user_client, big)
    assert response.status_code == 413
    assert "larger than the 2.0 MiB" in response.json()["detail"]
    await _nothing_left(runtime)


async def test_a_too_long_recording_is_refused_and_leaves_nothing(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    response = await upload(user_client, media.silence(75, "mp3"))
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The recording is 1:15 long; the longest accepted is 1:00."
    )
    await _nothing_left(runtime)


@pytest.mark.parametrize(
    ("given", "sentence"),
    [
        ("{not json", "Field 'settings' is not valid JSON."),
        ('["a"]', "Field 'settings' must be a JSON object."),
        ({"model": "tiny.en", "language": "de"}, "needs language 'en'"),
        ({"asr_settings": {"beam_size": 0}}, "Field 'settings.asr_settings.beam_size'"),
        ({"colour": "blue"}, "Field 'settings.colour' is not a job setting."),
    ],
)
async def test_invalid_settings_are_refused_and_leave_nothing(
    user_client: httpx.AsyncClient,
    runtime: Runtime,
    media: MediaFactory,
    given: dict[str, object] | str,
    sentence: str,
) -> None:
    response = await upload(user_client, media.path("wav"), settings=given)
    assert response.status_code == 422
    assert sentence in response.json()["detail"]
    await _nothing_left(runtime)


async def test_a_request_without_file_or_not_multipart_is_refused(
    user_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    response = await user_client.post("/api/jobs", data={"settings": "{}"}, files={"x": b"1"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Field 'file' is required")
    response = await user_client.post("/api/jobs", json={"file": "abc"})
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["detail"]
    await _nothing_left(runtime)


async def test_settings_come_from_request_then_user_defaults(
    user_client: httpx.AsyncClient, media: MediaFactory
) -> None:
    response = await user_client.put(
        "/api/users/me/default-settings",
        json={"language": "de", "diarization": {"min_speakers": 2}, "email_notification": True},
    )
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "de"
    assert response.json()["model"] == "small"

    defaults_used = (await upload(user_client, media.path("wav"))).json()["settings"]
    assert defaults_used["language"] == "de"
    assert defaults_used["diarization"] == {"min_speakers": 2, "max_speakers": None}
    assert defaults_used["email_notification"] is True

    given = (
        await upload(user_client, media.path("wav"), settings={"language": "fr", "model": "base"})
    ).json()["settings"]
    assert (given["language"], given["model"], given["email_notification"]) == ("fr", "base", True)


async def test_default_settings_start_as_the_servers_and_are_validated(
    user_client: httpx.AsyncClient,
) -> None:
    response = await user_client.get("/api/users/me/default-settings")
    assert response.status_code == 200
    assert response.json()["model"] == "small"
    assert response.json()["alignment"]["interpolate_method"] == "nearest"
    response = await user_client.put(
        "/api/users/me/default-settings", json={"task": "translate", "language": "en"}
    )
    assert response.status_code == 422
    assert "alignment is not available when translating" in response.json()["detail"]
    assert (await user_client.get("/api/users/me/default-settings")).json()["task"] == (
        "transcribe"
    )


async def test_file_names_are_kept_safely(
    user_client: httpx.AsyncClient, media: MediaFactory
) -> None:
    response = await upload(user_client, media.path("mp3"), file_name="../Interview Müller.mp3")
    assert response.status_code == 201
    assert response.json()["file_name"] == "Interview Müller.mp3"


async def test_signed_out_callers_cannot_upload(
    client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    response = await upload(client, media.path("wav"))
    assert response.status_code == 401
    await _nothing_left(runtime)


async def test_many_uploads_at_once_all_arrive(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    kinds = ["wav", "mp3", "ogg", "m4a", "flac", "webm", "video", "mkv"]
    responses = await asyncio.gather(*(upload(user_client, media.path(k)) for k in kinds))
    assert [r.status_code for r in responses] == [201] * len(kinds)
    assert len({r.json()["id"] for r in responses}) == len(kinds)
    for kind, response in zip(kinds, responses, strict=True):
        audio = await user_client.get(f"/api/jobs/{response.json()['id']}/audio")
        assert audio.content == media.path(kind).read_bytes()
    assert await _count(runtime, Blob) == len(kinds)
