"""Swagger UI served from the package, so /docs works with no internet.

The UI is vendored (projectw/api/static/swagger-ui, version in its VERSION file): version 5 or
newer is needed to read the OpenAPI 3.1 schemas FastAPI produces.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_STATIC = "/docs-static"
SWAGGER_DIR = Path(__file__).parent / "static" / "swagger-ui"


def install_docs(app: FastAPI) -> None:
    app.mount(SWAGGER_STATIC, StaticFiles(directory=SWAGGER_DIR), name="docs-static")
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Project-W API",
            swagger_js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_STATIC}/favicon-32x32.png",
        )

    app.include_router(router)
