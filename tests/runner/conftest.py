"""Fixtures of the runner tests: runner tokens, real recordings, a Project-W 0.6 style client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.media import MediaFactory

# The exact routes and field names of Project-W 0.6 runners (lib/project_W_lib models).
LEGACY_SETTINGS_FIELDS = {
    "email_notification",
    "task",
    "model",
    "language",
    "alignment",
    "diarization",
    "vad_settings",
    "asr_settings",
}


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFactory:
    return MediaFactory(tmp_path_factory.mktemp("runner-media"))


async def create_runner_token(admin: httpx.AsyncClient, name: str = "gpu-1") -> tuple[int, str]:
    response = await admin.post("/api/admin/runners", json={"name": name})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], body["token"]


async def upload(
    client: httpx.AsyncClient, path: Path, settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    data = {"settings": json.dumps(settings)} if settings is not None else {}
    with path.open("rb") as handle:
        response = await client.post("/api/jobs", files={"file": (path.name, handle)}, data=data)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class LegacyRunner:
    """Calls the runner routes exactly as a Project-W 0.6 runner does.

    Every JSON answer must carry ``Content-Type: application/json`` exactly, as that runner
    compares it; its request bodies are the 0.6 models' ``model_dump()``.
    """

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.session_token: str | None = None

    def _params(self) -> dict[str, str]:
        return {"session_token": self.session_token} if self.session_token else {}

    async def _json(self, response: httpx.Response) -> Any:
        assert response.headers.get("Content-Type") == "application/json", response.headers
        response.raise_for_status()
        return response.json()

    async def post(self, route: str, data: dict[str, Any] | None = None) -> Any:
        response = await self.http.post(
            f"/api/runners{route}", json=data, params=self._params(), headers=self.headers
        )
        return await self._json(response)

    async def get(self, route: str) -> Any:
        response = await self.http.get(
            f"/api/runners{route}", params=self._params(), headers=self.headers
        )
        return await self._json(response)

    async def register(self, name: str = "legacy", priority: int = 100) -> int:
        answer = await self.post(
            "/register",
            {
                "name": name,
                "priority": priority,
                "version": "0.6.0",
                "git_hash": "4d246b77d9437c7bc5a1991b9b7b75fbebe12a02",
                "source_code_url": "https://github.com/JulianFP/project-W/tree/main/runner",
            },
        )
        assert set(answer) >= {"id", "session_token"}
        self.session_token = answer["session_token"]
        return int(answer["id"])

    async def heartbeat(self, progress: float = 0.0) -> dict[str, Any]:
        answer: dict[str, Any] = await self.post("/heartbeat", {"progress": progress})
        assert isinstance(answer["abort"], bool) and isinstance(answer["job_assigned"], bool)
        return answer

    async def audio(self) -> httpx.Response:
        response = await self.http.post(
            "/api/runners/retrieve_job_audio", params=self._params(), headers=self.headers
        )
        response.raise_for_status()
        assert response.headers["Content-Type"].split("/")[0].strip() in ("audio", "video")
        return response


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    """The app served over real HTTP on loopback, as runners reach a server."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def wait_for_job(
    client: httpx.AsyncClient, job_id: int, *statuses: str, timeout: float = 30
) -> dict[str, Any]:
    """Poll the job until it reaches one of ``statuses``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = (await client.get(f"/api/jobs/{job_id}")).json()
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job {job_id} stuck in {job['status']}"
        await asyncio.sleep(0.05)
