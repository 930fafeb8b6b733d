"""The scheduler on SQLite and PostgreSQL: fairness, priorities, capabilities, atomic claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from projectw.db.base import utcnow
from projectw.db.models import Job
from projectw.jobs.queue import queue_position, unservable_reason
from projectw.jobs.queue.capabilities import NO_RUNNER_ONLINE
from projectw.jobs.queue.reaper import reap
from projectw.runner.engines.base import Capabilities
from projectw.runtime import Runtime
from tests.queue.conftest import add_job, add_runner, job_row, make_user
from tests.queue.helpers import fetch_audio, run_next, succeed


async def test_users_take_turns_then_priority_then_oldest(runtime: Runtime) -> None:
    alice, bob = await make_user(runtime), await make_user(runtime)
    start = utcnow() - timedelta(minutes=10)
    a = [await add_job(runtime, alice, created_at=start + timedelta(seconds=i)) for i in range(4)]
    urgent = await add_job(runtime, alice, priority=5, created_at=start + timedelta(seconds=10))
    b = [
        await add_job(runtime, bob, created_at=start + timedelta(seconds=20 + i)) for i in range(2)
    ]
    runner = await add_runner(runtime)
    done = [await run_next(runner) for _ in range(7)]
    # Alice's oldest queued work came first; then the users alternate; within Alice's jobs
    # the urgent one goes before older ones.
    assert done == [urgent, b[0], a[0], b[1], a[1], a[2], a[3]]
    assert await run_next(runner) is None


async def test_queue_position_follows_the_same_order(runtime: Runtime) -> None:
    alice, bob = await make_user(runtime), await make_user(runtime)
    start = utcnow() - timedelta(minutes=10)
    a = [await add_job(runtime, alice, created_at=start + timedelta(seconds=i)) for i in range(3)]
    b = [
        await add_job(runtime, bob, created_at=start + timedelta(seconds=10 + i)) for i in range(2)
    ]
    async with runtime.db.session() as session:
        positions = {
            job_id: await queue_position(session, await session.get_one(Job, job_id))
            for job_id in a + b
        }
    assert positions == {a[0]: 1, b[0]: 2, a[1]: 3, b[1]: 4, a[2]: 5}
    runner = await add_runner(runtime)
    served = await run_next(runner)
    assert served == a[0]
    # Reporting the result handed the runner its next job at once: Bob's turn.
    assert (await job_row(runtime, b[0])).status == "assigned"
    async with runtime.db.session() as session:
        assert await queue_position(session, await session.get_one(Job, served)) is None
        assert await queue_position(session, await session.get_one(Job, b[0])) is None
        # Bob was served last, so Alice is next.
        assert await queue_position(session, await session.get_one(Job, a[1])) == 1
        assert await queue_position(session, await session.get_one(Job, b[1])) == 2
        assert await queue_position(session, await session.get_one(Job, a[2])) == 3


async def test_higher_priority_runner_gets_the_job(runtime: Runtime) -> None:
    user = await make_user(runtime)
    slow = await add_runner(runtime, priority=10)
    fast = await add_runner(runtime, priority=500)
    job_id = await add_job(runtime, user)
    # The slow runner asks first, yet the job goes to the free runner with the higher priority.
    assert (await slow.beat()).job_id is None
    assert (await fast.beat()).job_id == job_id
    second = await add_job(runtime, user)
    assert (await slow.beat()).job_id == second


async def test_a_job_goes_only_to_a_runner_that_can_serve_it(runtime: Runtime) -> None:
    user = await make_user(runtime)
    tiny_only = await add_runner(
        runtime, capabilities=Capabilities(engine="faster-whisper", models=["tiny"], features=[])
    )
    big = await add_job(runtime, user, model="medium", alignment=None)
    aligned_tiny = await add_job(runtime, user, model="tiny")
    plain_tiny = await add_job(runtime, user, model="tiny", alignment=None)
    assert (await tiny_only.beat()).job_id == plain_tiny
    await fetch_audio(tiny_only)
    await succeed(tiny_only)
    assert (await tiny_only.beat()).job_id is None
    await reap(runtime)
    assert (await job_row(runtime, big)).waiting_reason == (
        "No online runner can serve this job; it needs the model 'medium'."
    )
    assert (await job_row(runtime, aligned_tiny)).waiting_reason == (
        "No online runner can serve this job; it needs alignment."
    )
    async with runtime.db.session() as session:
        assert await unservable_reason(session, {"model": "tiny", "alignment": None}) is None
        assert "diarization" in (
            await unservable_reason(
                session, {"model": "tiny", "alignment": None, "diarization": {}}
            )
            or ""
        )
    # A Project-W 0.6 runner (no capabilities) serves every feature of the 0.6 models only.
    legacy = await add_runner(runtime)
    assert (await legacy.beat()).job_id == big
    large_v3 = await add_job(runtime, user, model="large-v3")
    await reap(runtime)
    assert (await job_row(runtime, large_v3)).waiting_reason is not None


async def test_without_runners_the_wait_is_explained(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    async with runtime.db.session() as session:
        assert await unservable_reason(session, {"model": "small"}) is None
    await reap(runtime)
    assert (await job_row(runtime, job_id)).waiting_reason == NO_RUNNER_ONLINE
    runner = await add_runner(runtime)
    assert (await job_row(runtime, job_id)).waiting_reason is None
    assert (await runner.beat()).job_id == job_id


async def test_concurrent_claims_give_each_job_to_one_runner(runtime: Runtime) -> None:
    user = await make_user(runtime)
    runners = [await add_runner(runtime) for _ in range(6)]
    jobs = [await add_job(runtime, user) for _ in range(4)]
    beats = await asyncio.gather(*(runner.beat() for runner in runners))
    claimed = [beat.job_id for beat in beats if beat.job_id is not None]
    assert sorted(claimed) == sorted(jobs)
    async with runtime.db.session() as session:
        per_runner = await session.execute(
            select(Job.runner_id, func.count())
            .where(Job.status == "assigned")
            .group_by(Job.runner_id)
        )
        assert all(count == 1 for _runner, count in per_runner)
    # Asking again changes nothing: a runner keeps its job, nobody gets a second one.
    again = await asyncio.gather(*(runner.beat() for runner in runners))
    assert [beat.job_id for beat in again] == [beat.job_id for beat in beats]
