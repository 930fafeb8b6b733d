"""What this server is: name, version, mode, engines."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from projectw import __version__
from projectw.api.deps import RuntimeDep
from projectw.config import Settings
from projectw.db.base import utcnow
from projectw.jobs.queue.leases import online_runners
from projectw.runner.engines import ENGINES
from projectw.runner.models import ModelStore, model_sources

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
    models: list[str] = Field(
        default_factory=list,
        description="Whisper models the online runners can serve now, without a download.",
    )
    models_downloadable: bool = Field(
        False, description="Some online runner may download further models on demand."
    )
    model_problems: list[str] = Field(
        default_factory=list,
        description="Models the embedded runner is expected to serve but cannot (e.g. missing "
        "with runner.offline), one sentence each.",
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
        runners = await online_runners(session, utcnow())
    capabilities = [runner.capabilities or {} for runner in runners]
    problems = (
        await asyncio.to_thread(_model_problems, settings)
        if embedded_engine in ("faster-whisper", "whisperx")
        else []
    )
    return About(
        name="Project-W",
        version=__version__,
        mode=settings.mode,
        database=runtime.db.backend,
        engine=EngineInfo(
            embedded_runner=settings.runner.embedded,
            engines=list(ENGINES),
            embedded_engine=embedded_engine,
            runners_online=len(runners),
            notice=DUMMY_NOTICE if embedded_engine == "dummy" else None,
            models=sorted({name for c in capabilities for name in c.get("models") or []}),
            models_downloadable=any(c.get("downloadable") for c in capabilities),
            model_problems=problems,
        ),
    )


def _model_problems(settings: Settings) -> list[str]:
    """Expected models (preloaded ones and the default) the embedded runner cannot serve."""
    expected = [*settings.runner.preload_models, settings.jobs.default_model]
    return ModelStore(model_sources(settings)).problems(expected)
