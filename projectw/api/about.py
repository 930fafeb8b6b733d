"""What this server is: name, version, mode, engines."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from projectw import __version__
from projectw.api.deps import RuntimeDep
from projectw.db.base import utcnow
from projectw.jobs.queue.leases import online_runners
from projectw.runner.engines import ENGINES

router = APIRouter(prefix="/api", tags=["general"])

DUMMY_NOTICE = (
    "This server transcribes with the dummy engine: transcripts are placeholder text, not what "
    "was said."
)


class EngineInfo(BaseModel):
    embedded_runner: bool
    engines: list[str]
    embedded_engine: str | None = Field(
        description="The engine of the embedded runner; null when it is turned off."
    )
    runners_online: int = Field(description="Runners connected now, the embedded one included.")
    notice: str | None = Field(
        description="A warning for users, e.g. that the dummy engine returns placeholder text."
    )


class About(BaseModel):
    name: str
    version: str
    mode: Literal["appliance", "cluster"]
    database: str
    engine: EngineInfo


@router.get("/about")
async def about(runtime: RuntimeDep) -> About:
    """Name, version and shape of this server."""
    settings = runtime.settings
    embedded_engine = settings.runner.engine if settings.runner.embedded else None
    async with runtime.db.session() as session:
        runners_online = len(await online_runners(session, utcnow()))
    return About(
        name="Project-W",
        version=__version__,
        mode=settings.mode,
        database=runtime.db.backend,
        engine=EngineInfo(
            embedded_runner=settings.runner.embedded,
            engines=list(ENGINES),
            embedded_engine=embedded_engine,
            runners_online=runners_online,
            notice=DUMMY_NOTICE if embedded_engine == "dummy" else None,
        ),
    )
