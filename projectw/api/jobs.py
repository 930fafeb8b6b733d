"""Jobs: submit recordings, watch them, act on them, download results; default settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from projectw.api.deps import CurrentUser, RuntimeDep, SubmittingUser
from projectw.api.errors import error_body
from projectw.errors import BadRequest
from projectw.jobs.listing import MAX_PAGE, JobPage, JobQuery, list_jobs
from projectw.jobs.results import RangeNotSatisfiable, Results
from projectw.jobs.service import MAX_BULK_IDS, JobService
from projectw.jobs.settings import JobSettings
from projectw.jobs.upload import receive_upload
from projectw.jobs.views import JobStatus, JobView

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
settings_router = APIRouter(prefix="/api/users/me", tags=["jobs"])


async def get_job_service(runtime: RuntimeDep) -> JobService:
    return JobService(runtime)


JobServiceDep = Annotated[JobService, Depends(get_job_service)]


async def get_results(jobs: JobServiceDep) -> Results:
    return Results(jobs.db, jobs.blobs)


ResultsDep = Annotated[Results, Depends(get_results)]


class JobIds(BaseModel):
    """Jobs to act on in one request."""

    ids: list[int] = Field(min_length=1, max_length=MAX_BULK_IDS)


class BulkItem(BaseModel):
    """The outcome for one id: ``ok``, or the error ``code`` and ``detail``."""

    id: int
    ok: bool
    code: str | None = None
    detail: str | None = None
    job: JobView | None = None


class BulkOutcome(BaseModel):
    """Per-id outcomes of a bulk request, with counts."""

    results: list[BulkItem]
    succeeded: int
    failed: int


def _bulk(results: list[Any]) -> BulkOutcome:
    items = [BulkItem(id=r.id, ok=r.ok, code=r.code, detail=r.detail, job=r.job) for r in results]
    succeeded = sum(item.ok for item in items)
    return BulkOutcome(results=items, succeeded=succeeded, failed=len(items) - succeeded)


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "settings": {
                            "type": "string",
                            "description": "JobSettings as JSON; fields left out come from the "
                            "user's default settings, then the server's.",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_UPLOAD_BODY,
    responses={
        413: {"description": "The file is too large or the recording too long."},
        415: {"description": "The file has no audio track."},
        422: {"description": "Invalid settings, or unreadable or truncated media."},
    },
)
async def submit_job(
    request: Request, user: SubmittingUser, jobs: JobServiceDep, runtime: RuntimeDep
) -> JobView:
    """Upload one recording (multipart: ``file`` and optional ``settings``) and queue a job."""
    length = request.headers.get("content-length")
    try:
        async with receive_upload(
            request.stream(),
            request.headers.get("content-type"),
            runtime.settings.paths.tmp_dir,
            runtime.settings.jobs.max_upload_bytes,
            declared_length=int(length) if length and length.isdigit() else None,
        ) as upload:
            return await jobs.submit(user.id, upload)
    except ClientDisconnect:
        raise BadRequest("The upload was interrupted.") from None


@router.get("")
async def list_my_jobs(
    user: CurrentUser,
    runtime: RuntimeDep,
    job_status: Annotated[
        list[JobStatus], Query(alias="status", description="Only jobs in these states.")
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    q: Annotated[
        str | None, Query(max_length=255, description="Part of the file name, any case.")
    ] = None,
    sort: Literal["created", "name"] = "created",
    order: Literal["asc", "desc"] = "desc",
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> JobPage:
    """The user's jobs, newest first unless sorted otherwise; follow ``next_cursor``."""
    query = JobQuery(tuple(job_status), q or None, sort, order, cursor, limit)
    return await list_jobs(runtime.db, runtime.state, user.id, query)


@router.post("/abort")
async def abort_jobs(body: JobIds, user: CurrentUser, jobs: JobServiceDep) -> BulkOutcome:
    """Abort many jobs; each id succeeds or fails on its own."""
    return _bulk(await jobs.bulk(user.id, body.ids, jobs.abort))


@router.post("/delete")
async def delete_jobs(body: JobIds, user: CurrentUser, jobs: JobServiceDep) -> BulkOutcome:
    """Delete many finished jobs with their recordings and transcripts."""
    return _bulk(await jobs.bulk(user.id, body.ids, jobs.delete))


@router.post("/retry")
async def retry_jobs(body: JobIds, user: SubmittingUser, jobs: JobServiceDep) -> BulkOutcome:
    """Retry many finished jobs whose recordings are still kept."""
    return _bulk(await jobs.bulk(user.id, body.ids, jobs.retry))


@router.get("/{job_id}")
async def get_job(job_id: int, user: CurrentUser, jobs: JobServiceDep) -> JobView:
    """One job: status, stage, progress, queue position, runner, settings, error, media."""
    return await jobs.get(user.id, job_id)


@router.post("/{job_id}/abort")
async def abort_job(job_id: int, user: CurrentUser, jobs: JobServiceDep) -> JobView:
    """Abort a job: a queued one at once, a running one as soon as its runner hears of it."""
    return await jobs.abort(user.id, job_id)


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_job(job_id: int, user: CurrentUser, jobs: JobServiceDep) -> None:
    """Delete a finished job, its recording and its transcript."""
    await jobs.delete(user.id, job_id)


@router.post("/{job_id}/retry", status_code=status.HTTP_201_CREATED)
async def retry_job(job_id: int, user: SubmittingUser, jobs: JobServiceDep) -> JobView:
    """Queue a new job with the same recording and settings."""
    return await jobs.retry(user.id, job_id)


def _attachment(file_name: str) -> str:
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.get(
    "/{job_id}/transcript",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "The rendered transcript."}},
)
async def download_transcript(
    job_id: int,
    user: CurrentUser,
    results: ResultsDep,
    format: Literal["txt", "srt", "vtt", "tsv", "json"] = "txt",
    max_line_width: Annotated[int | None, Query(ge=1)] = None,
    max_line_count: Annotated[int | None, Query(ge=1)] = None,
    highlight_words: bool | None = None,
    speaker_labels: bool | None = None,
) -> Response:
    """The transcript rendered in a format; layout defaults to the job's alignment settings."""
    download = await results.transcript(
        user.id,
        job_id,
        format,
        {
            "max_line_width": max_line_width,
            "max_line_count": max_line_count,
            "highlight_words": highlight_words,
            "speaker_labels": speaker_labels,
        },
    )
    return Response(
        download.content,
        media_type=download.media_type,
        headers={
            "Content-Disposition": _attachment(download.file_name),
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/{job_id}/audio",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"audio/*": {}}, "description": "The recording."},
        206: {"description": "The requested byte range."},
        416: {"description": "The range lies outside the file."},
    },
)
async def stream_audio(
    job_id: int, request: Request, user: CurrentUser, results: ResultsDep
) -> Response:
    """The stored recording, with HTTP Range support for seeking."""
    try:
        piece = await results.audio(user.id, job_id, request.headers.get("range"))
    except RangeNotSatisfiable as exc:
        return JSONResponse(
            error_body(exc.detail, exc.code),
            status_code=416,
            headers={"Content-Range": f"bytes */{exc.size}"},
        )
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(piece.end - piece.start),
        "Cache-Control": "private, no-store",
        "Content-Disposition": _attachment(piece.file_name).replace("attachment", "inline", 1),
    }
    if piece.partial:
        headers["Content-Range"] = f"bytes {piece.start}-{piece.end - 1}/{piece.size}"
    return StreamingResponse(
        piece.chunks,
        status_code=206 if piece.partial else 200,
        media_type=piece.media_type,
        headers=headers,
    )


_SETTINGS_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobSettings"}}},
    }
}


@settings_router.get("/default-settings")
async def get_default_settings(user: CurrentUser, jobs: JobServiceDep) -> JobSettings:
    """The settings new jobs use when the upload names none."""
    return await jobs.default_settings(user.id)


@settings_router.put("/default-settings", openapi_extra=_SETTINGS_BODY)
async def put_default_settings(
    user: CurrentUser,
    jobs: JobServiceDep,
    body: Annotated[dict[str, Any], Body()],
) -> JobSettings:
    """Replace the default settings; fields left out take the server's defaults."""
    return await jobs.set_default_settings(user.id, body)
