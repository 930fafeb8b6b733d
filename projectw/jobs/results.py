"""A job's results as downloads: the transcript rendered on request, the recording by range."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from projectw.db.engine import Database
from projectw.errors import Conflict, NotFound, ProjectWError
from projectw.jobs.blobstore import BlobMissing, BlobStore
from projectw.jobs.service import owned_job
from projectw.transcripts.model import Transcript
from projectw.transcripts.options import check_format
from projectw.transcripts.render import FORMATS, RenderOptions, render


class RangeNotSatisfiable(ProjectWError):
    """The requested byte range lies outside the file."""

    status_code = 416
    code = "range_not_satisfiable"

    def __init__(self, detail: str, *, size: int) -> None:
        super().__init__(detail)
        self.size = size


@dataclass(frozen=True)
class Download:
    """A rendered transcript to send as a file."""

    content: str
    file_name: str
    media_type: str


@dataclass(frozen=True)
class AudioSlice:
    """The bytes ``start``..``end`` (exclusive) of a recording of ``size`` bytes."""

    chunks: AsyncIterator[bytes]
    start: int
    end: int
    size: int
    partial: bool
    media_type: str
    file_name: str


def download_name(file_name: str, extension: str) -> str:
    """``talk.mp3`` → ``talk.srt``: players pick up subtitles named like the recording."""
    stem = PurePath(file_name).stem if PurePath(file_name).suffix else file_name
    return f"{stem or 'transcript'}.{extension}"


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single ``Range: bytes=…`` as (start, end exclusive); None means the whole file.

    Several ranges in one header are answered with the whole file, which HTTP allows.
    """
    if header is None or "," in header:
        return None
    match = _RANGE.match(header)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable("An empty suffix range selects no bytes.", size=size)
        return max(size - length, 0), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(
            f"The range starts beyond the end of the {size}-byte file.", size=size
        )
    return start, end


class Results:
    """Reads results of a user's jobs."""

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs

    async def transcript(
        self, user_id: int, job_id: int, fmt: str, overrides: dict[str, Any]
    ) -> Download:
        """The transcript in ``fmt``; layout options default to the job's alignment settings."""
        chosen = check_format(fmt)
        async with self.db.session() as session:
            job = await owned_job(session, user_id, job_id)
        if job.transcript_blob_id is None:
            if job.status == "succeeded":
                raise NotFound(f"The transcript of job {job_id} has been deleted.")
            raise Conflict(f"Job {job_id} has no transcript yet; it is {job.status}.")
        try:
            data = await self.blobs.read_all(job.transcript_blob_id)
        except BlobMissing:
            raise NotFound(f"The transcript of job {job_id} has been deleted.") from None
        transcript = Transcript.model_validate_json(data)
        processing = (job.settings.get("alignment") or {}).get("processing") or {}
        values: dict[str, Any] = {
            "max_line_width": processing.get("max_line_width"),
            "max_line_count": processing.get("max_line_count"),
            "highlight_words": bool(processing.get("highlight_words", False)),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        text = render(transcript, chosen, RenderOptions(**values))
        extension, media_type = FORMATS[chosen]
        return Download(text, download_name(job.file_name, extension), media_type)

    async def audio(self, user_id: int, job_id: int, range_header: str | None) -> AudioSlice:
        """The recording, or the byte range asked for."""
        async with self.db.session() as session:
            job = await owned_job(session, user_id, job_id)
        if job.audio_blob_id is None:
            raise NotFound(f"The recording of job {job_id} has been deleted.")
        try:
            blob = await self.blobs.describe(job.audio_blob_id)
        except BlobMissing:
            raise NotFound(f"The recording of job {job_id} has been deleted.") from None
        wanted = parse_range(range_header, blob.size)
        start, end = wanted if wanted is not None else (0, blob.size)
        return AudioSlice(
            chunks=self.blobs.read(blob.id, start, end),
            start=start,
            end=end,
            size=blob.size,
            partial=wanted is not None,
            media_type=job.content_type or "application/octet-stream",
            file_name=job.file_name,
        )
