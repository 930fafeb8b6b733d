"""The web app as the server delivers it: fallback, caching, Content-Security-Policy."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from projectw.api.frontend import IMMUTABLE_CACHE, find_frontend_dir, script_hashes
from projectw.app import create_app
from tests.conftest import make_settings

DIST = find_frontend_dir()


@pytest.fixture
async def web(tmp_path: Path, sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path / "data", sqlite_url))
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def test_the_checkout_has_a_build() -> None:
    assert DIST is not None
    assert (DIST / "index.html").is_file()


async def test_root_serves_the_app_uncached_with_a_strict_policy(web: httpx.AsyncClient) -> None:
    response = await web.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'self';")
    assert "unsafe-inline" not in policy
    # Style attributes only by hash: SvelteKit's route announcer is the one the app has.
    assert re.search(r"style-src-attr 'unsafe-hashes'( 'sha256-[A-Za-z0-9+/=]+')+;", policy)
    assert "unsafe-eval" not in policy
    # The boot script SvelteKit inlines is allowed by its hash, and by nothing broader.
    hashes = script_hashes(response.content)
    assert hashes
    for source in hashes:
        assert source in policy
    assert "http:" not in policy and "https:" not in policy


async def test_unknown_pages_fall_back_to_the_app(web: httpx.AsyncClient) -> None:
    index = (await web.get("/")).content
    for path in ("/jobs", "/some/deep/link", "/index.html"):
        response = await web.get(path)
        assert response.status_code == 200, path
        assert response.content == index


async def test_api_and_docs_paths_never_fall_back(web: httpx.AsyncClient) -> None:
    for path in ("/api/no-such-thing", "/api", "/docs/x", "/openapi.json/x", "/healthz/x"):
        response = await web.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


async def test_wrong_method_on_an_api_route_is_still_405(web: httpx.AsyncClient) -> None:
    response = await web.post("/api/about")
    assert response.status_code == 405


async def test_hashed_assets_are_immutable(web: httpx.AsyncClient) -> None:
    index = (await web.get("/")).text
    assets = re.findall(r'"/(_app/immutable/[^"]+\.(?:js|css))"', index)
    assert assets
    for asset in assets:
        response = await web.get("/" + asset)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == IMMUTABLE_CACHE
        assert response.headers["x-content-type-options"] == "nosniff"
    missing = await web.get("/_app/immutable/chunks/missing.js")
    assert missing.status_code == 404


async def test_other_static_files_are_revalidated(web: httpx.AsyncClient) -> None:
    response = await web.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


async def test_files_outside_the_build_cannot_be_reached(web: httpx.AsyncClient) -> None:
    for path in ("/../pyproject.toml", "/%2e%2e/pyproject.toml", "/_app/../../pyproject.toml"):
        response = await web.get(path)
        assert b"[project]" not in response.content, path


async def test_docs_get_a_policy_allowing_only_their_own_inline_script(
    web: httpx.AsyncClient,
) -> None:
    response = await web.get("/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    hashes = script_hashes(response.content)
    assert hashes
    assert all(source in policy for source in hashes)
    assert "script-src 'self' 'sha256-" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
