"""A server restart loses nothing and assigns nothing twice, whatever state the jobs are in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from projectw.config import Settings
from projectw.db.base import utcnow
from projectw.db.models import Job, Runner
from projectw.jobs.queue.reaper import reap
from projectw.runtime import Runtime
from tests.queue.conftest import (
    FakeRunner,
    add_job,
    add_runner,
    job_row,
    make_user,
    request_abort,
)
from tests.queue.helpers import fail, fetch_audio, succeed


async def _states(runtime: Runtime) -> dict[int, tuple[str, int | None, int, bool]]:
    async with runtime.db.session() as session:
        rows = await session.execute(
            select(Job.id, Job.status, Job.runner_id, Job.attempts, Job.abort_requested)
        )
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


async def test_restart_with_jobs_in_every_state(settings: Settings) -> None:
    first = await Runtime.start(settings)
    try:
        user = await make_user(first)
        jobs = {
            name: await add_job(first, user)
            for name in ("succeeded", "failed", "aborted", "running", "aborting", "assigned")
        }
        runners = {
            name: await add_runner(first)
            for name in ("succeeded", "failed", "aborted", "running", "aborting", "assigned")
        }
        for name in ("succeeded", "failed", "aborted", "running", "aborting"):
            assert (await runners[name].beat()).job_id == jobs[name]
            await fetch_audio(runners[name])
        await succeed(runners["succeeded"])
        await fail(runners["failed"])
        await request_abort(first, jobs["aborted"])
        await fail(runners["aborted"], "job was aborted")
        await request_abort(first, jobs["aborting"])
        assert (await runners["assigned"].beat()).job_id == jobs["assigned"]
        jobs["queued"] = await add_job(first, user)
        before = await _states(first)
        sessions = {name: runner.session_token for name, runner in runners.items()}
    finally:
        await first.stop()

    assert before[jobs["queued"]][0] == "queued"
    second = await Runtime.start(settings)
    try:
        assert await _states(second) == before
        again = {
            name: FakeRunner(second, runner.id, runner.token, sessions[name])
            for name, runner in runners.items()
        }
        # Runners carry on with the sessions they had: same jobs, same answers.
        assert (await again["running"].beat(progress=30)).job_id == jobs["running"]
        assert (await again["aborting"].beat()).abort is True
        assert (await again["assigned"].beat()).job_id == jobs["assigned"]
        # A free runner gets the one queued job; the others are not handed out a second time.
        assert (await again["succeeded"].beat()).job_id == jobs["queued"]
        assert (await again["failed"].beat()).job_id is None
        assert (await again["aborted"].beat()).job_id is None
        await succeed(again["running"])
        await fetch_audio(again["assigned"])
        await succeed(again["assigned"])
        await fail(again["aborting"], "job was aborted")
        after = await _states(second)
        assert after[jobs["running"]][0] == "succeeded"
        assert after[jobs["assigned"]][0] == "succeeded"
        assert after[jobs["aborting"]][0] == "aborted"
        assert all(state[2] == 0 for state in after.values()), "no attempt was lost"
    finally:
        await second.stop()


async def test_runners_reconnect_after_a_long_outage(settings: Settings) -> None:
    """Down for longer than the lease: runners that come back keep their jobs."""
    first = await Runtime.start(settings)
    try:
        user = await make_user(first)
        job_id = await add_job(first, user)
        runner = await add_runner(first)
        await runner.beat()
        await fetch_audio(runner)
        session_token = runner.session_token
    finally:
        await first.stop()
    long_ago = utcnow() - timedelta(minutes=5)
    second = await Runtime.start(settings)
    try:
        async with second.db.session() as session, session.begin():
            await session.execute(update(Runner).values(online_until=long_ago))
            await session.execute(update(Job).values(lease_expires_at=long_ago))
        # The periodic reaper waits one lease after a start before calling anyone lost, and a
        # heartbeat in that window renews the session.
        assert await second.queue.reap_when_settled() is False
        assert (await job_row(second, job_id)).status == "running"
        back = FakeRunner(second, runner.id, runner.token, session_token)
        assert (await back.beat()).job_id == job_id
        assert (await reap(second)).jobs_released == 0
        await succeed(back)
        assert (await _states(second))[job_id][:3] == ("succeeded", runner.id, 0)
    finally:
        await second.stop()
