"""Server-sent events: the signed-in user's job changes, live and resumable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from projectw.api.deps import CurrentUser, RuntimeDep
from projectw.errors import InvalidInput
from projectw.jobs.events import stream_events

router = APIRouter(prefix="/api", tags=["jobs"])


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`job_created`, `job_updated` and `job_deleted` events; the data is "
            "a JSON object with `job_id` and the changed fields (the whole job for "
            "`job_created`). Comments keep the connection alive.",
        }
    },
)
async def job_events(
    user: CurrentUser,
    runtime: RuntimeDep,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[
        int | None, Query(ge=0, description="Resume after this event (as Last-Event-ID).")
    ] = None,
) -> StreamingResponse:
    """Stream the user's job changes; reconnect with Last-Event-ID to miss nothing kept."""
    resume = last_event_id
    if last_event_id_header is not None and last_event_id_header.strip():
        if not last_event_id_header.strip().isdigit():
            raise InvalidInput("Header 'Last-Event-ID' must be an event id (a whole number).")
        resume = int(last_event_id_header)
    stream = stream_events(runtime.db, runtime.state, runtime.stopping, user.id, resume)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
