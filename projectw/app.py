"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from projectw import __version__
from projectw.api import (
    about,
    admin_queue,
    admin_runners,
    admin_users,
    auth,
    health,
    runners,
    tos,
    users,
)
from projectw.api import events as event_api
from projectw.api import jobs as job_api
from projectw.api.docs import install_docs
from projectw.api.errors import install_error_handlers
from projectw.api.frontend import install_frontend
from projectw.api.middleware import RequestContextMiddleware
from projectw.config import Settings
from projectw.runtime import Runtime


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Build the app; a given runtime is used as is, otherwise the lifespan starts one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        active = await Runtime.start(settings) if runtime is None else runtime
        app.state.runtime = active
        try:
            yield
        finally:
            if owned:
                await active.stop()

    app = FastAPI(
        title="Project-W",
        version=__version__,
        summary="Self-hosted transcription service.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(about.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(tos.router)
    app.include_router(admin_users.router)
    app.include_router(job_api.router)
    app.include_router(job_api.settings_router)
    app.include_router(event_api.router)
    app.include_router(runners.router)
    app.include_router(admin_runners.router)
    app.include_router(admin_queue.router)
    install_docs(app)
    # Last: the web app answers only for addresses no router claims.
    install_frontend(app)
    return app
