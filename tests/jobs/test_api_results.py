"""Results: transcripts rendered on request (checked by ffmpeg), audio by byte range."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from projectw.db.base import utcnow
from projectw.jobs.blobstore import BlobStore, mark_complete
from projectw.runtime import Runtime
from projectw.transcripts.model import Segment, Transcript, Word
from tests.jobs.conftest import upload
from tests.jobs.test_api_actions import set_job
from tests.media import MediaFactory

TRANSCRIPT = Transcript(
    language="en",
    duration=4.0,
    segments=[
        Segment(
            start=0.0,
            end=1.5,
            text=" Hello world.",
            speaker="SPEAKER_00",
            words=[
                Word(word="Hello", start=0.0, end=0.62, probability=0.9, speaker="SPEAKER_00"),
                Word(word="world.", start=0.7, end=1.5, probability=0.8, speaker="SPEAKER_00"),
            ],
        ),
        Segment(start=1.75, end=3.999, text=" This is a test recording.", speaker="SPEAKER_01"),
    ],
)


async def succeeded_job(
    client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory, **settings: object
) -> int:
    """A job whose runner delivered TRANSCRIPT (stored as the queue stores results)."""
    response = await upload(client, media.path("mp3"), settings=settings or None)
    assert response.status_code == 201, response.text
    job_id = int(response.json()["id"])
    store = BlobStore(runtime.db, runtime.secret)
    blob_id = await store.write_bytes(TRANSCRIPT.model_dump_json().encode(), "transcript")
    async with runtime.db.session() as session, session.begin():
        await mark_complete(session, blob_id)
    await set_job(
        runtime,
        job_id,
        status="succeeded",
        progress=100.0,
        finished_at=utcnow(),
        transcript_blob_id=blob_id,
    )
    return job_id


def _ffmpeg_cues(path: Path) -> list[tuple[int, int]]:
    """(start, end) in ms of every cue, as ffmpeg's subtitle demuxer reads them."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-of",
            "json",
            "-show_entries",
            "packet=pts,duration",
            "-i",
            str(path),
        ],  # fmt: skip
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [(int(p["pts"]), int(p["pts"]) + int(p["duration"])) for p in json.loads(out)["packets"]]


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
async def test_subtitles_are_read_back_by_ffmpeg_to_the_millisecond(
    user_client: httpx.AsyncClient,
    runtime: Runtime,
    media: MediaFactory,
    tmp_path: Path,
    fmt: str,
) -> None:
    job_id = await succeeded_job(user_client, runtime, media)
    response = await user_client.get(f"/api/jobs/{job_id}/transcript", params={"format": fmt})
    assert response.status_code == 200
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(response.content)
    assert _ffmpeg_cues(path) == [(0, 1500), (1750, 3999)]


async def test_transcript_downloads_have_a_sensible_name_and_type(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    job_id = await succeeded_job(user_client, runtime, media)
    stem = media.path("mp3").stem
    expected = {
        "txt": "text/plain; charset=utf-8",
        "srt": "application/x-subrip; charset=utf-8",
        "vtt": "text/vtt; charset=utf-8",
        "tsv": "text/tab-separated-values; charset=utf-8",
        "json": "application/json; charset=utf-8",
    }
    for fmt, media_type in expected.items():
        response = await user_client.get(f"/api/jobs/{job_id}/transcript?format={fmt}")
        assert response.status_code == 200
        assert response.headers["content-type"] == media_type
        assert response.headers["content-disposition"].startswith(
            f'attachment; filename="{stem}.{fmt}"'
        )
    plain = await user_client.get(f"/api/jobs/{job_id}/transcript")
    assert plain.text.splitlines() == [
        "[SPEAKER_00]: Hello world.",
        "[SPEAKER_01]: This is a test recording.",
    ]
    canonical = await user_client.get(f"/api/jobs/{job_id}/transcript?format=json")
    assert Transcript.model_validate_json(canonical.content) == TRANSCRIPT


async def test_render_options_apply_and_are_validated(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    job_id = await succeeded_job(user_client, runtime, media)
    url = f"/api/jobs/{job_id}/transcript"
    bare = await user_client.get(url, params={"format": "txt", "speaker_labels": "false"})
    assert bare.text.splitlines()[0] == "Hello world."
    words = await user_client.get(url, params={"format": "srt", "highlight_words": "true"})
    assert "<u>Hello</u> world." in words.text
    bad = await user_client.get(url, params={"format": "srt", "max_line_count": 2})
    assert bad.status_code == 422
    assert "max_line_count needs max_line_width" in bad.json()["detail"]
    unknown = await user_client.get(url, params={"format": "docx"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("Field 'format'")


async def test_the_jobs_alignment_settings_shape_subtitles_by_default(
    user_client: httpx.AsyncClient, runtime: Runtime, media: MediaFactory
) -> None:
    job_id = await succeeded_job(
        user_client,
        runtime,
        media,
        alignment={"processing": {"highlight_words": True}},
    )
    srt = await user_client.get(f"/api/jobs/{job_id}/transcript?format=srt")
    assert "<u>world.</u>" in srt.text
    plain = await user_client.get(
        f"/api/jobs/{job_id}/transcript", params={"format": "srt", "highlight_words": "false"}
    )
    assert "<u>" not in plain.text


async def test_no_transcript_before_the_job_succeeds(
    user_client: httpx.AsyncClient, media: MediaFactory
) -> None:
    job_id = (await upload(user_client, media.path("wav"))).json()["id"]
    response = await user_client.get(f"/api/jobs/{job_id}/transcript?format=txt")
    assert response.status_code == 409
    assert response.json()["detail"] == f"Job {job_id} has no transcript yet; it is queued."


async def test_audio_is_served_by_range(
    user_client: httpx.AsyncClient, media: MediaFactory
) -> None:
    path = media.path("flac")
    data = path.read_bytes()
    size = len(data)
    job_id = (await upload(user_client, path)).json()["id"]
    url = f"/api/jobs/{job_id}/audio"

    whole = await user_client.get(url)
    assert whole.status_code == 200
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(size)

    cases = {
        "bytes=0-99": (0, 100),
        "bytes=1000-": (1000, size),
        "bytes=-500": (size - 500, size),
        f"bytes=50-{size + 100}": (50, size),
        f"bytes={size - 1}-{size - 1}": (size - 1, size),
    }
    for header, (start, end) in cases.items():
        part = await user_client.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == data[start:end], header
        assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert part.headers["content-length"] == str(end - start)

    outside = await user_client.get(url, headers={"Range": f"bytes={size}-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{size}"
    several = await user_client.get(url, headers={"Range": "bytes=0-1,5-9"})
    assert several.status_code == 200
    assert several.content == data
