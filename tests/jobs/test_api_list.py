"""GET /api/jobs: filters, search, sort, cursor pages and the total count."""

from __future__ import annotations

from datetime import timedelta

import httpx

from projectw.db.base import utcnow
from projectw.db.models import Job
from projectw.runtime import Runtime
from tests.conftest import Account
from tests.jobs.conftest import upload
from tests.media import MediaFactory

NAMES = ["b-talk.mp3", "A_interview.wav", "c 100% sure.ogg", "d-talk.flac", "e.m4a", "F-TALK.webm"]
STATUSES = ["queued", "running", "succeeded", "failed", "succeeded", "aborted"]


async def _insert_jobs(runtime: Runtime, user_id: int) -> list[int]:
    """Jobs made directly in the database, one second apart in creation time."""
    start = utcnow() - timedelta(hours=1)
    async with runtime.db.session() as session, session.begin():
        jobs = [
            Job(
                user_id=user_id,
                status=status,
                settings={},
                file_name=name,
                created_at=start + timedelta(seconds=index),
            )
            for index, (name, status) in enumerate(zip(NAMES, STATUSES, strict=True))
        ]
        session.add_all(jobs)
    return [job.id for job in jobs]


async def _all_pages(client: httpx.AsyncClient, **params: object) -> tuple[list[str], list[int]]:
    names: list[str] = []
    totals: list[int] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/jobs", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        names += [item["file_name"] for item in page["items"]]
        totals.append(page["total"])
        cursor = page["next_cursor"]
        if cursor is None:
            return names, totals


async def test_newest_first_in_pages_with_a_total(
    user_client: httpx.AsyncClient, runtime: Runtime, user_account: Account
) -> None:
    await _insert_jobs(runtime, user_account.id)
    names, totals = await _all_pages(user_client, limit=4)
    assert names == list(reversed(NAMES))
    assert totals == [6, 6]
    oldest_first, _ = await _all_pages(user_client, limit=2, order="asc")
    assert oldest_first == NAMES


async def test_sort_by_name_pages_through_every_job_once(
    user_client: httpx.AsyncClient, runtime: Runtime, user_account: Account
) -> None:
    await _insert_jobs(runtime, user_account.id)
    for order in ("asc", "desc"):
        # The database's collation decides the order; one-row pages must follow it exactly.
        params = {"sort": "name", "order": order}
        whole = (await user_client.get("/api/jobs", params={**params, "limit": 6})).json()
        paged, _ = await _all_pages(user_client, **params, limit=1)
        assert paged == [item["file_name"] for item in whole["items"]]
        assert sorted(paged) == sorted(NAMES)
    ascending, _ = await _all_pages(user_client, sort="name", order="asc", limit=6)
    descending, _ = await _all_pages(user_client, sort="name", order="desc", limit=6)
    assert ascending == list(reversed(descending))


async def test_filter_by_status_and_search_by_name(
    user_client: httpx.AsyncClient, runtime: Runtime, user_account: Account
) -> None:
    await _insert_jobs(runtime, user_account.id)
    finished = (
        await user_client.get("/api/jobs", params=[("status", "succeeded"), ("status", "failed")])
    ).json()
    assert finished["total"] == 3
    assert {item["status"] for item in finished["items"]} == {"succeeded", "failed"}

    talks, totals = await _all_pages(user_client, q="TALK", limit=2)
    assert sorted(talks) == ["F-TALK.webm", "b-talk.mp3", "d-talk.flac"]
    assert set(totals) == {3}
    literal = (await user_client.get("/api/jobs", params={"q": "100%"})).json()
    assert [item["file_name"] for item in literal["items"]] == ["c 100% sure.ogg"]
    underscore = (await user_client.get("/api/jobs", params={"q": "_"})).json()
    assert [item["file_name"] for item in underscore["items"]] == ["A_interview.wav"]


async def test_jobs_of_other_users_are_not_listed(
    other_user_client: httpx.AsyncClient,
    runtime: Runtime,
    user_account: Account,
) -> None:
    await _insert_jobs(runtime, user_account.id)
    page = (await other_user_client.get("/api/jobs")).json()
    assert page == {"items": [], "total": 0, "next_cursor": None}


async def test_bad_parameters_name_the_field(user_client: httpx.AsyncClient) -> None:
    cases = {
        "status=done": "Field 'status.0': input should be 'queued'",
        "sort=size": "Field 'sort'",
        "limit=0": "Field 'limit'",
        "limit=500": "Field 'limit'",
        "cursor=garbage": "Field 'cursor' is not a cursor of this listing",
    }
    for query, start in cases.items():
        response = await user_client.get(f"/api/jobs?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"].startswith(start), response.json()


async def test_a_cursor_belongs_to_its_sort_order(
    user_client: httpx.AsyncClient, runtime: Runtime, user_account: Account
) -> None:
    await _insert_jobs(runtime, user_account.id)
    cursor = (await user_client.get("/api/jobs", params={"limit": 2})).json()["next_cursor"]
    response = await user_client.get("/api/jobs", params={"cursor": cursor, "sort": "name"})
    assert response.status_code == 422


async def test_the_total_follows_every_change_to_the_jobs(
    user_client: httpx.AsyncClient, runtime: Runtime, user_account: Account, media: MediaFactory
) -> None:
    async def totals() -> tuple[int, int]:
        every = (await user_client.get("/api/jobs")).json()["total"]
        queued = (await user_client.get("/api/jobs", params={"status": "queued"})).json()
        return every, queued["total"]

    await _insert_jobs(runtime, user_account.id)
    assert await totals() == (6, 1)
    first = (await upload(user_client, media.path("wav"))).json()["id"]
    second = (await upload(user_client, media.path("wav"))).json()["id"]
    assert await totals() == (8, 3)
    assert (await user_client.post(f"/api/jobs/{first}/abort")).status_code == 200
    assert await totals() == (8, 2)
    assert (await user_client.delete(f"/api/jobs/{first}")).status_code == 204
    assert await totals() == (7, 2)
    assert (await user_client.post(f"/api/jobs/{second}/abort")).status_code == 200
    assert (await user_client.delete(f"/api/jobs/{second}")).status_code == 204
    assert await totals() == (6, 1)


async def test_an_unchanged_first_page_does_not_count_again(
    user_client: httpx.AsyncClient, runtime: Runtime, user_account: Account, media: MediaFactory
) -> None:
    await _insert_jobs(runtime, user_account.id)
    assert (await user_client.get("/api/jobs")).json()["total"] == 6
    # Rows written behind the service's back make no event: the total kept is still used...
    await _insert_jobs(runtime, user_account.id)
    assert (await user_client.get("/api/jobs")).json()["total"] == 6
    # ...searches always count, and any change the service makes is noticed.
    assert (await user_client.get("/api/jobs", params={"q": "talk"})).json()["total"] == 6
    await upload(user_client, media.path("wav"))
    assert (await user_client.get("/api/jobs")).json()["total"] == 13
