"""The runner routes' edges and the admin routes: errors are JSON sentences, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.media import MediaFactory
from tests.runner.conftest import LegacyRunner, create_runner_token, upload

REGISTER = {"name": "r", "version": "1", "git_hash": "x", "source_code_url": "u", "priority": 1}


async def test_runner_routes_need_a_valid_token(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer pwr_nonsense"}, {"Authorization": "Basic x"}):
        response = await client.post("/api/runners/register", json=REGISTER, headers=headers)
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_authenticated"


async def test_a_request_without_a_token_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient,
) -> None:
    for route in ("register", "heartbeat", "submit_job_result"):
        response = await client.post(f"/api/runners/{route}", json={"name": ["not", "a", "name"]})
        assert response.status_code == 401, route
        assert response.json()["code"] == "not_authenticated"


async def test_a_wrong_session_token_is_refused(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    _id, token = await create_runner_token(admin_client)
    runner = LegacyRunner(client, token)
    await runner.register()
    runner.session_token = "not-the-session"
    response = await client.post(
        "/api/runners/heartbeat",
        json={"progress": 0},
        params={"session_token": "not-the-session"},
        headers=runner.headers,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "runner_session_invalid"


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("/register", {**REGISTER, "name": "x" * 41}, "name"),
        ("/register", {**REGISTER, "priority": 0}, "priority"),
        ("/register", {**REGISTER, "git_hash": "g" * 41}, "git_hash"),
        ("/heartbeat", {"progress": 101}, "progress"),
        ("/submit_job_result", {"error_msg": None, "transcript": None}, "one of error_msg"),
        ("/submit_job_result", {"transcript": {"as_txt": "x"}}, "transcript.as_srt"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    route: str,
    body: dict[str, object],
    field: str,
) -> None:
    _id, token = await create_runner_token(admin_client)
    runner = LegacyRunner(client, token)
    if route != "/register":
        await runner.register()
    response = await client.post(
        f"/api/runners{route}", json=body, params=runner._params(), headers=runner.headers
    )
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/json"
    assert field in response.json()["detail"]


async def test_no_job_means_a_clear_conflict(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    _id, token = await create_runner_token(admin_client)
    runner = LegacyRunner(client, token)
    await runner.register()
    for method, route in (
        ("GET", "/retrieve_job_info"),
        ("POST", "/retrieve_job_audio"),
        ("POST", "/submit_job_result"),
    ):
        response = await client.request(
            method,
            f"/api/runners{route}",
            params=runner._params(),
            headers=runner.headers,
            json={"error_msg": "x"} if route == "/submit_job_result" else None,
        )
        assert response.status_code == 409, route
        assert response.json() == {
            "detail": "No job is assigned to this runner.",
            "code": "no_job_assigned",
        }


async def test_an_unreadable_legacy_result_fails_the_job_cleanly(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    _id, token = await create_runner_token(admin_client)
    runner = LegacyRunner(client, token)
    await runner.register()
    job = await upload(user_client, media.path("wav"))
    assert (await runner.heartbeat())["job_assigned"]
    await runner.audio()
    broken = {"as_txt": "", "as_srt": "", "as_tsv": "", "as_vtt": "", "as_json": {"segments": 3}}
    await runner.post("/submit_job_result", {"transcript": broken})
    failed = (await user_client.get(f"/api/jobs/{job['id']}")).json()
    assert failed["status"] == "failed"
    assert failed["error_code"] == "bad_result"
    assert "could not be read" in failed["error_message"]


async def test_admins_create_list_and_revoke_runners(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, user_client: httpx.AsyncClient
) -> None:
    assert (await user_client.get("/api/admin/runners")).status_code == 403
    assert (await user_client.post("/api/admin/runners", json={"name": "x"})).status_code == 403
    assert (await client.get("/api/admin/runners")).status_code == 401
    too_long = await admin_client.post("/api/admin/runners", json={"name": "n" * 41})
    assert too_long.status_code == 422 and "name" in too_long.json()["detail"]

    runner_id, token = await create_runner_token(admin_client, "gpu-box")
    assert token.startswith("pwr_")
    listed = (await admin_client.get("/api/admin/runners")).json()
    assert listed["count"] == 1 and listed["online"] == 0
    entry = listed["runners"][0]
    assert (entry["id"], entry["name"], entry["online"], entry["busy"]) == (
        runner_id,
        "gpu-box",
        False,
        False,
    )
    assert "token" not in entry

    legacy = LegacyRunner(client, token)
    await legacy.register(name="registered-as")
    online = (await admin_client.get("/api/admin/runners")).json()["runners"][0]
    assert (online["online"], online["registered_name"], online["priority"]) == (
        True,
        "registered-as",
        100,
    )
    assert online["last_heartbeat_at"] is not None

    assert (await admin_client.delete(f"/api/admin/runners/{runner_id}")).status_code == 204
    assert (await admin_client.delete(f"/api/admin/runners/{runner_id}")).status_code == 404
    assert (await admin_client.get("/api/admin/runners")).json()["count"] == 0
    revoked = (await admin_client.get("/api/admin/runners?include_revoked=true")).json()
    assert revoked["runners"][0]["revoked_at"] is not None
    refused = await client.post(
        "/api/runners/heartbeat", json={}, params=legacy._params(), headers=legacy.headers
    )
    assert refused.status_code == 401


async def test_about_says_which_engine_runs(client: httpx.AsyncClient) -> None:
    engine = (await client.get("/api/about")).json()["engine"]
    # The test server runs no embedded runner.
    assert engine["embedded_runner"] is False
    assert engine["embedded_engine"] is None
    assert engine["notice"] is None
    assert set(engine["engines"]) >= {"dummy", "faster-whisper", "whisperx"}
    assert engine["runners_online"] == 0
