"""Another user's job does not exist for you: 404 on every route, nothing in lists or events."""

from __future__ import annotations

import httpx
import pytest

from projectw.runtime import Runtime
from tests.jobs.test_api_results import succeeded_job
from tests.media import MediaFactory

ROUTES = [
    ("GET", "/api/jobs/{id}"),
    ("GET", "/api/jobs/{id}/audio"),
    ("GET", "/api/jobs/{id}/transcript?format=srt"),
    ("POST", "/api/jobs/{id}/abort"),
    ("POST", "/api/jobs/{id}/retry"),
    ("DELETE", "/api/jobs/{id}"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
async def test_another_users_job_is_not_found(
    user_client: httpx.AsyncClient,
    other_user_client: httpx.AsyncClient,
    runtime: Runtime,
    media: MediaFactory,
    method: str,
    route: str,
) -> None:
    job_id = await succeeded_job(user_client, runtime, media)
    url = route.format(id=job_id)
    response = await other_user_client.request(method, url)
    assert response.status_code == 404
    assert response.json() == {"detail": f"There is no job {job_id}.", "code": "not_found"}
    # The owner gets an answer about the job itself, so the 404 is about ownership only
    # (aborting a finished job is a conflict, not a missing job).
    owner = await user_client.request(method, url)
    assert owner.status_code in (200, 201, 204, 409), owner.text
    assert owner.status_code != 409 or "already finished" in owner.json()["detail"]


async def test_bulk_actions_on_another_users_jobs_do_nothing(
    user_client: httpx.AsyncClient,
    other_user_client: httpx.AsyncClient,
    runtime: Runtime,
    media: MediaFactory,
) -> None:
    job_id = await succeeded_job(user_client, runtime, media)
    for action in ("abort", "retry", "delete"):
        body = (await other_user_client.post(f"/api/jobs/{action}", json={"ids": [job_id]})).json()
        assert body["results"][0]["code"] == "not_found"
    assert (await user_client.get(f"/api/jobs/{job_id}")).json()["status"] == "succeeded"
    assert (await user_client.get("/api/jobs")).json()["total"] == 1


async def test_default_settings_are_per_user(
    user_client: httpx.AsyncClient, other_user_client: httpx.AsyncClient
) -> None:
    await user_client.put("/api/users/me/default-settings", json={"language": "de"})
    theirs = (await other_user_client.get("/api/users/me/default-settings")).json()
    assert theirs["language"] is None


async def test_signed_out_callers_get_401_everywhere(client: httpx.AsyncClient) -> None:
    for method, route in [
        *ROUTES,
        ("GET", "/api/jobs"),
        ("GET", "/api/events"),
        ("GET", "/api/users/me/default-settings"),
    ]:
        response = await client.request(method, route.format(id=1))
        assert response.status_code == 401, route
