"""`projectw serve` as a real process: starts, answers, stops cleanly on SIGTERM and Ctrl-C."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PostgresDatabases
from tests.serving import ServerProcess

pytestmark = pytest.mark.process


def _check_endpoints(url: str) -> None:
    assert httpx.get(url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(url + "/readyz")
    assert ready.status_code == 200, ready.text
    about = httpx.get(url + "/api/about").json()
    assert about["name"] == "Project-W"
    docs = httpx.get(url + "/docs")
    assert docs.status_code == 200
    assert "swagger-ui-bundle.js" in docs.text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_on_sqlite_and_stop(tmp_path: Path, sig: int) -> None:
    with ServerProcess(tmp_path / "data") as server:
        url = server.wait_ready()
        assert url.startswith("http://127.0.0.1:")
        _check_endpoints(url)
        started = time.monotonic()
        assert server.stop(sig) == 0
        assert time.monotonic() - started < 10
    assert (tmp_path / "data" / "projectw.db").exists()
    assert not any("Traceback" in line for line in server.stderr)


@pytest.mark.postgres
async def test_serve_on_postgres(tmp_path: Path, postgres: PostgresDatabases) -> None:
    database_url = await postgres.create()
    try:
        with ServerProcess(
            tmp_path / "data", env={"PROJECTW_DATABASE_URL": database_url}
        ) as server:
            url = server.wait_ready()
            _check_endpoints(url)
            assert httpx.get(url + "/api/about").json()["database"] == "postgresql"
            assert server.stop() == 0
    finally:
        await postgres.drop(database_url)


def test_restart_keeps_the_database_and_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as first:
        first.wait_ready()
        assert first.stop() == 0
    secret = (data / "secret_key").read_text()
    with ServerProcess(data) as second:
        second.wait_ready()
        assert second.stop() == 0
    assert (data / "secret_key").read_text() == secret
