"""What this server is: name, version, mode, engines."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from projectw import __version__
from projectw.api.deps import RuntimeDep

router = APIRouter(prefix="/api", tags=["general"])


class EngineInfo(BaseModel):
    embedded_runner: bool
    engines: list[str]


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
    return About(
        name="Project-W",
        version=__version__,
        mode=settings.mode,
        database=runtime.db.backend,
        engine=EngineInfo(embedded_runner=settings.runner.embedded, engines=[]),
    )
