"""The app's own endpoints: health, readiness, about, offline API docs, request ids."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from projectw import __version__
from projectw.db.engine import Database


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_every_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "state"}
    assert all(check["ok"] for check in body["checks"].values())


async def test_readyz_is_503_when_migrations_are_behind(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    runtime = app.state.runtime
    async with runtime.db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["migrations"]["ok"] is False
    assert "old" in checks["migrations"]["error"]


async def test_readyz_is_503_when_database_is_unreachable(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    runtime = app.state.runtime
    healthy = runtime.db
    runtime.db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        response = await client.get("/readyz")
    finally:
        await runtime.db.dispose()
        runtime.db = healthy
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["state"]["ok"] is True


async def test_about(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/about")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Project-W"
    assert body["version"] == __version__
    assert body["mode"] == "appliance"
    assert body["database"] in ("sqlite", "postgresql")


async def test_docs_are_served_from_the_package(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "https://" not in page.text, "the docs page must not load anything from a CDN"
    assert "/docs-static/swagger-ui-bundle.js" in page.text
    bundle = await client.get("/docs-static/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000
    schema = await client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/api/about" in schema.json()["paths"]


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id;x"})
    assert replaced.headers["x-request-id"] != "bad id;x"


async def test_unknown_route_is_a_json_error(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is nothing at this address.", "code": "not_found"}
