"""The runner process's loop against a live server: jobs, aborts, crashes, stops, reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from projectw.db.base import utcnow
from projectw.db.models import Runner as RunnerRow
from projectw.jobs.queue.reaper import reap
from projectw.runner.config import RunnerConfig
from projectw.runner.loop import Runner
from tests.media import MediaFactory
from tests.queue.conftest import job_settings
from tests.runner.conftest import create_runner_token, upload, wait_for_job


@asynccontextmanager
async def running(runner: Runner) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(runner.run())
    try:
        await asyncio.wait_for(runner.registered.wait(), 30)
        yield task
    finally:
        if not task.done():
            runner.stop(grace=0)
        await asyncio.wait_for(task, 30)


async def make_runner(
    admin: httpx.AsyncClient,
    url: str,
    engine: str = "dummy",
    heartbeat_seconds: float = 0.2,
    **options: Any,
) -> Runner:
    _id, token = await create_runner_token(admin)
    return Runner(
        RunnerConfig(
            server_url=url,
            token=token,
            name="test-runner",
            engine=engine,
            engine_options={"dummy_seconds_per_audio_second": 0, **options},
            heartbeat_seconds=heartbeat_seconds,
        )
    )


async def _online(admin: httpx.AsyncClient) -> list[dict[str, Any]]:
    body = (await admin.get("/api/admin/runners")).json()
    return [runner for runner in body["runners"] if runner["online"]]


async def test_the_runner_does_every_job_once(
    live_url: str,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    other_user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    runner = await make_runner(admin_client, live_url)
    async with running(runner):
        online = await _online(admin_client)
        assert [r["capabilities"]["engine"] for r in online] == ["dummy"]
        clients = [user_client, other_user_client] * 2
        jobs = [(client, await upload(client, media.path("wav"))) for client in clients]
        for client, job in jobs:
            done = await wait_for_job(client, job["id"], "succeeded", "failed")
            assert done["status"] == "succeeded"
            assert done["runner_name"] == "test-runner"
            text = await client.get(f"/api/jobs/{job['id']}/transcript", params={"format": "txt"})
            assert text.text.startswith("this is the dummy engine")
    assert runner.jobs_done == 4
    assert await _online(admin_client) == []


async def test_an_abort_reaches_the_running_engine(
    live_url: str,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    runner = await make_runner(admin_client, live_url, dummy_seconds_per_audio_second=30)
    async with running(runner):
        job = await upload(user_client, media.path("wav"))
        await wait_for_job(user_client, job["id"], "running")
        assert (await user_client.post(f"/api/jobs/{job['id']}/abort")).status_code == 200
        aborted = await wait_for_job(user_client, job["id"], "aborted", timeout=10)
        assert aborted["error_code"] == "aborted"


async def test_an_abort_does_not_wait_for_the_next_heartbeat(
    live_url: str,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    # Heartbeats 20 s apart: the abort must arrive through the working runner's long poll.
    runner = await make_runner(
        admin_client, live_url, heartbeat_seconds=20, dummy_seconds_per_audio_second=30
    )
    async with running(runner):
        job = await upload(user_client, media.path("wav"))
        await wait_for_job(user_client, job["id"], "running")
        await asyncio.sleep(0.5)
        assert (await user_client.post(f"/api/jobs/{job['id']}/abort")).status_code == 200
        aborted = await wait_for_job(user_client, job["id"], "aborted", timeout=10)
        assert aborted["error_code"] == "aborted"


async def test_an_engine_crash_fails_one_job_and_the_runner_carries_on(
    live_url: str,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    runner = await make_runner(admin_client, live_url, "tests.runner.stub_engines:crashing")
    async with running(runner):
        crash = job_settings(
            asr_settings={**job_settings()["asr_settings"], "initial_prompt": "crash"}
        )
        doomed = await upload(user_client, media.path("wav"), crash)
        fine = await upload(user_client, media.path("wav"))
        failed = await wait_for_job(user_client, doomed["id"], "failed", "succeeded")
        assert failed["status"] == "failed"
        assert failed["error_code"] == "engine_crashed"
        assert "crashed" in failed["error_message"]
        assert (await wait_for_job(user_client, fine["id"], "succeeded", "failed"))[
            "status"
        ] == "succeeded"


async def test_a_stop_lets_the_job_finish(
    live_url: str,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    runner = await make_runner(admin_client, live_url, dummy_seconds_per_audio_second=0.5)
    task = asyncio.create_task(runner.run())
    job = await upload(user_client, media.path("wav"))
    await wait_for_job(user_client, job["id"], "running")
    second = await upload(user_client, media.path("wav"))
    runner.stop(grace=60)
    await asyncio.wait_for(task, 60)
    assert (await wait_for_job(user_client, job["id"], "succeeded", "failed"))["status"] == (
        "succeeded"
    )
    # It took no new work while stopping, and left.
    assert (await user_client.get(f"/api/jobs/{second['id']}")).json()["status"] == "queued"
    assert await _online(admin_client) == []


async def test_a_stop_hands_back_a_job_that_does_not_finish_in_time(
    live_url: str,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    runner = await make_runner(admin_client, live_url, dummy_seconds_per_audio_second=60)
    task = asyncio.create_task(runner.run())
    job = await upload(user_client, media.path("wav"))
    await wait_for_job(user_client, job["id"], "running")
    runner.stop(grace=0.5)
    await asyncio.wait_for(task, 30)
    back = (await user_client.get(f"/api/jobs/{job['id']}")).json()
    assert (back["status"], back["attempts"], back["runner_id"]) == ("queued", 0, None)


async def test_the_runner_registers_again_when_its_session_is_closed(
    app: FastAPI,
    live_url: str,
    admin_client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    media: MediaFactory,
) -> None:
    runtime = app.state.runtime
    runner = await make_runner(admin_client, live_url)
    async with running(runner):
        # The runner may renew its lease between the two steps (its first long poll); then
        # the lease is cut short again.
        for _attempt in range(50):
            async with runtime.db.session() as session, session.begin():
                await session.execute(update(RunnerRow).values(online_until=utcnow()))
            if (await reap(runtime)).runners_offline == 1:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the runner's session was never closed")
        job = await upload(user_client, media.path("wav"))
        assert (await wait_for_job(user_client, job["id"], "succeeded", "failed"))["status"] == (
            "succeeded"
        )
