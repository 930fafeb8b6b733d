"""Leases, attempts, aborts at every stage, unregistering and revoking, on both databases."""

from __future__ import annotations

import asyncio

import pytest

from projectw.errors import Forbidden, Unauthorized
from projectw.jobs.queue import registry, sessions
from projectw.jobs.queue.reaper import reap
from projectw.protocol import HeartbeatRequest
from projectw.runtime import Runtime
from tests.queue.conftest import (
    add_job,
    add_runner,
    expire_runner,
    job_row,
    make_user,
    request_abort,
    runner_row,
)
from tests.queue.helpers import fail, fetch_audio, succeed


async def test_a_lost_runner_gives_its_job_back_until_max_attempts(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    for attempt in range(1, 4):
        runner = await add_runner(runtime)
        assert (await runner.beat()).job_id == job_id
        await fetch_audio(runner)
        assert (await job_row(runtime, job_id)).status == "running"
        await expire_runner(runtime, runner.id)
        report = await reap(runtime)
        assert report.runners_offline == 1
        assert report.jobs_released == 1
        job = await job_row(runtime, job_id)
        assert job.attempts == attempt
        assert (await runner_row(runtime, runner.id)).session_token_hash is None
        with pytest.raises(Unauthorized):
            await runner.beat()
        if attempt < 3:
            assert job.status == "queued"
            assert job.runner_id is None
    assert job.status == "failed"
    assert job.error_code == "runner_lost"
    assert "stopped responding 3 times" in (job.error_message or "")
    # A failed job is never handed out again.
    assert (await (await add_runner(runtime)).beat()).job_id is None


async def test_heartbeats_keep_the_lease(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    before = (await job_row(runtime, job_id)).lease_expires_at
    await runner.beat(progress=40, stage="transcribing")
    job = await job_row(runtime, job_id)
    assert before is not None and job.lease_expires_at is not None
    assert job.lease_expires_at >= before
    assert (job.progress, job.stage) == (40, "transcribing")
    assert (await reap(runtime)).jobs_released == 0
    assert (await job_row(runtime, job_id)).status == "running"


async def test_a_runner_is_online_once(runtime: Runtime) -> None:
    runner = await add_runner(runtime)
    with pytest.raises(Forbidden) as refused:
        await runner.register()
    assert refused.value.code == "runner_already_online"
    # An old runner then unregisters and registers again.
    await sessions.unregister(runtime, runner.token, None)
    await runner.register()
    await runner.beat()


async def test_a_runner_whose_lease_ran_out_may_register_again(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    await expire_runner(runtime, runner.id)
    await runner.register()
    job = await job_row(runtime, job_id)
    # Its old session held the job; it was taken back as the reaper would have.
    assert job.attempts == 1
    assert (await runner.beat()).job_id == job_id


@pytest.mark.parametrize("orderly", [True, False])
async def test_unregister_requeues_the_job(runtime: Runtime, orderly: bool) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    await sessions.unregister(runtime, runner.token, runner.session_token if orderly else None)
    job = await job_row(runtime, job_id)
    assert job.status == "queued"
    # Without its session token the caller may be a restarted runner whose job crashed it.
    assert job.attempts == (0 if orderly else 1)
    with pytest.raises(Unauthorized):
        await runner.beat()


async def test_revoking_a_runner_requeues_its_job(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    other = await add_runner(runtime, priority=1)
    assert (await runner.beat()).job_id == job_id
    await registry.revoke_runner(runtime, runner.id)
    with pytest.raises(Unauthorized) as refused:
        await runner.beat()
    assert refused.value.code == "not_authenticated"
    # Not the job's fault: no attempt counted, and the other runner got it right away.
    job = await job_row(runtime, job_id)
    assert (job.status, job.attempts, job.runner_id) == ("assigned", 0, other.id)
    async with runtime.db.session() as session:
        states = {state.runner.id: state for state in await registry.list_runners(session)}
    assert runner.id not in states
    assert states[other.id].online and states[other.id].busy


async def test_abort_of_a_queued_job(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    await request_abort(runtime, job_id)
    assert (await job_row(runtime, job_id)).status == "aborted"
    runner = await add_runner(runtime)
    assert (await runner.beat()).job_id is None
    await reap(runtime)
    assert (await job_row(runtime, job_id)).status == "aborted"


async def test_abort_of_an_assigned_job(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await request_abort(runtime, job_id)
    beat = await runner.beat()
    assert (beat.abort, beat.job_id) == (True, job_id)
    # A Project-W 0.6 runner fetches and starts anyway, then reports the abort as an error.
    await fetch_audio(runner)
    await fail(runner, "job was aborted")
    job = await job_row(runtime, job_id)
    assert (job.status, job.error_code) == ("aborted", "aborted")
    assert (await runner_row(runtime, runner.id)).jobs_failed == 0


async def test_abort_of_a_running_job_discards_a_late_result(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    await request_abort(runtime, job_id)
    assert (await runner.beat(progress=50)).abort is True
    await succeed(runner, job_id)
    job = await job_row(runtime, job_id)
    assert job.status == "aborted"
    assert job.transcript_blob_id is None
    assert (await runner.beat()).job_id is None


@pytest.mark.parametrize("how", ["lease", "unregister", "revoke"])
async def test_an_aborted_job_whose_runner_left_is_never_handed_out(
    runtime: Runtime, how: str
) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    await request_abort(runtime, job_id)
    if how == "lease":
        await expire_runner(runtime, runner.id)
        await reap(runtime)
    elif how == "unregister":
        await sessions.unregister(runtime, runner.token, None)
    else:
        await registry.revoke_runner(runtime, runner.id)
    job = await job_row(runtime, job_id)
    assert (job.status, job.attempts) == ("aborted", 0)
    assert (await (await add_runner(runtime)).beat()).job_id is None


async def test_a_long_poll_answers_when_work_arrives(runtime: Runtime) -> None:
    user = await make_user(runtime)
    runner = await add_runner(runtime)
    poll = asyncio.create_task(
        sessions.long_poll(runtime, runner.token, runner.session_token, HeartbeatRequest(), 25)
    )
    await asyncio.sleep(0.2)
    assert not poll.done()
    job_id = await add_job(runtime, user)
    beat = await asyncio.wait_for(poll, 10)
    assert beat.job_id == job_id


async def test_a_long_poll_answers_an_abort(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    poll = asyncio.create_task(
        sessions.long_poll(runtime, runner.token, runner.session_token, HeartbeatRequest(), 25)
    )
    await asyncio.sleep(0.2)
    assert not poll.done()
    await request_abort(runtime, job_id)
    beat = await asyncio.wait_for(poll, 10)
    assert (beat.abort, beat.job_id) == (True, job_id)


async def test_a_long_poll_ends_when_the_runner_is_revoked(runtime: Runtime) -> None:
    runner = await add_runner(runtime)
    poll = asyncio.create_task(
        sessions.long_poll(runtime, runner.token, runner.session_token, HeartbeatRequest(), 25)
    )
    await asyncio.sleep(0.2)
    await registry.revoke_runner(runtime, runner.id)
    with pytest.raises(Unauthorized):
        await asyncio.wait_for(poll, 10)
