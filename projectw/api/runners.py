"""The runner protocol (wire-compatible with Project-W 0.6 runners) under /api/runners.

Runners authenticate with ``Authorization: Bearer <runner token>``; after registering they pass
their session token as the ``session_token`` query parameter. Every JSON answer, errors
included, has the Content-Type ``application/json`` exactly: old runners compare it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from projectw.api.deps import RuntimeDep
from projectw.jobs.queue import results, sessions
from projectw.protocol import (
    RUNNER_ROUTES,
    Acknowledged,
    HeartbeatRequest,
    HeartbeatResponse,
    JobInfoResponse,
    RegisterRequest,
    RegisterResponse,
    SubmitResultRequest,
    SubmitResultResponse,
)

router = APIRouter(prefix=RUNNER_ROUTES, tags=["runners"])

_bearer = HTTPBearer(auto_error=False, scheme_name="RunnerToken", description="The runner's token.")


async def runner_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The bearer token; a request without one is refused before its body is read."""
    if credentials is None:
        raise sessions.no_token()
    return credentials.credentials


RunnerToken = Annotated[str, Depends(runner_token)]
SessionToken = Annotated[
    str | None, Query(description="The session token `register` answered with.")
]


@router.post("/register", responses={403: {"description": "The runner is already online."}})
async def register(
    body: RegisterRequest, runtime: RuntimeDep, token: RunnerToken
) -> RegisterResponse:
    """Bring the runner online; answers the session token for the following calls."""
    return await sessions.register(runtime, token, body)


@router.post("/unregister")
async def unregister(
    runtime: RuntimeDep, token: RunnerToken, session_token: SessionToken = None
) -> Acknowledged:
    """Take the runner offline; the job it held goes back to the queue."""
    await sessions.unregister(runtime, token, session_token)
    return Acknowledged(detail="Runner unregistered.")


async def _hung_up(request: Request, gone: asyncio.Event) -> None:
    """Set ``gone`` when the client closes the connection before the answer."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    gone.set()


@router.post("/heartbeat")
async def heartbeat(
    http: Request,
    runtime: RuntimeDep,
    token: RunnerToken,
    session_token: SessionToken = None,
    body: HeartbeatRequest | None = None,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=600,
            description="Long poll: answer as soon as a job is assigned or an abort is "
            "requested, or after this many seconds (capped at half the lease).",
        ),
    ] = 0,
) -> HeartbeatResponse:
    """Keep the runner online, report progress, learn about new jobs and aborts."""
    request = body or HeartbeatRequest()
    if wait > 0:
        # A runner whose work ended before the answer hangs up; its poll should not live on.
        gone = asyncio.Event()
        watcher = asyncio.create_task(_hung_up(http, gone))
        try:
            beat = await sessions.long_poll(runtime, token, session_token, request, wait, gone)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    else:
        beat = await sessions.heartbeat(runtime, token, session_token, request)
    job = None
    if beat.job_id is not None and beat.job_settings is not None:
        job = JobInfoResponse(id=beat.job_id, settings=beat.job_settings)
    return HeartbeatResponse(
        abort=beat.abort, job_assigned=beat.job_assigned, job_id=beat.job_id, job=job
    )


@router.get("/retrieve_job_info")
async def retrieve_job_info(
    runtime: RuntimeDep, token: RunnerToken, session_token: SessionToken = None
) -> JobInfoResponse:
    """The id and settings of the job assigned to this runner."""
    return await results.job_info(runtime, token, session_token)


@router.post(
    "/retrieve_job_audio",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/*": {}, "video/*": {}}}},
)
async def retrieve_job_audio(
    runtime: RuntimeDep, token: RunnerToken, session_token: SessionToken = None
) -> StreamingResponse:
    """The recording of the runner's job, streamed; the job counts as running from now on."""
    audio = await results.open_audio(runtime, token, session_token)
    return StreamingResponse(
        audio.chunks,
        media_type=audio.media_type,
        headers={"Content-Length": str(audio.size), "X-Job-Id": str(audio.job_id)},
    )


@router.post("/submit_job_result")
async def submit_job_result(
    body: SubmitResultRequest,
    runtime: RuntimeDep,
    token: RunnerToken,
    session_token: SessionToken = None,
) -> SubmitResultResponse:
    """Finish the runner's job with a transcript or an error; answers its next job, if any."""
    return await results.submit_result(runtime, token, session_token, body)
