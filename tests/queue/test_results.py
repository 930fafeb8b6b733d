"""Results, events and heartbeats on the queue's short path, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from projectw.db.models import Blob, BlobChunk, Event, Runner
from projectw.jobs.blobstore import SMALL_BLOB_LIMIT, BlobStore
from projectw.jobs.queue import results, sessions
from projectw.protocol import HeartbeatRequest, SubmitResultRequest
from projectw.runtime import Runtime
from projectw.transcripts.model import Segment, Transcript
from tests.queue.conftest import add_job, add_runner, job_row, make_user, runner_row
from tests.queue.helpers import fetch_audio, succeed


async def _blobs(runtime: Runtime) -> list[Blob]:
    async with runtime.db.session() as session:
        return list(await session.scalars(select(Blob).order_by(Blob.id)))


async def test_a_short_transcript_is_stored_complete_and_encrypted(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    before = len(await _blobs(runtime))
    await succeed(runner, job_id)
    job = await job_row(runtime, job_id)
    assert job.status == "succeeded" and job.transcript_blob_id is not None
    # One new blob, complete, and nothing left half-written.
    blobs = await _blobs(runtime)
    assert len(blobs) == before + 1
    assert all(blob.complete for blob in blobs)
    async with runtime.db.session() as session:
        sealed = await session.scalar(
            select(BlobChunk.data).where(BlobChunk.blob_id == job.transcript_blob_id)
        )
    assert sealed is not None and b"hello world" not in sealed
    stored = await BlobStore(runtime.db, runtime.secret).read_all(job.transcript_blob_id)
    transcript = Transcript.model_validate_json(stored)
    assert transcript.segments[0].text == "hello world"
    # The job's duration fills in what the runner left out.
    assert transcript.duration == 3.0


async def test_a_long_transcript_is_stored_before_the_result_transaction(
    runtime: Runtime,
) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    text = "word " * 40
    long = Transcript(
        language="en",
        duration=3000.0,
        segments=[Segment(start=i, end=i + 1, text=text) for i in range(3000)],
    )
    assert len(long.model_dump_json()) > SMALL_BLOB_LIMIT
    await results.submit_result(
        runtime,
        runner.token,
        runner.session_token,
        SubmitResultRequest(result=long, job_id=job_id),
    )
    job = await job_row(runtime, job_id)
    assert job.status == "succeeded" and job.transcript_blob_id is not None
    assert all(blob.complete for blob in await _blobs(runtime))
    stored = await BlobStore(runtime.db, runtime.secret).read_all(job.transcript_blob_id)
    assert Transcript.model_validate_json(stored) == long


async def test_a_result_and_the_next_assignment_are_events_in_order(runtime: Runtime) -> None:
    user = await make_user(runtime)
    first = await add_job(runtime, user)
    second = await add_job(runtime, user)
    runner = await add_runner(runtime)
    assert (await runner.beat()).job_id == first
    await fetch_audio(runner)
    async with runtime.db.session() as session:
        mark = await session.scalar(select(func.max(Event.id))) or 0
    answer = await succeed(runner, first)
    assert answer.next_job is not None and answer.next_job.id == second
    async with runtime.db.session() as session:
        rows = list(await session.scalars(select(Event).where(Event.id > mark).order_by(Event.id)))
    assert [(row.job_id, row.payload["status"]) for row in rows] == [
        (first, "succeeded"),
        (second, "assigned"),
    ]
    assert rows[0].payload["transcript_available"] is True
    assert rows[1].payload["runner_id"] == runner.id
    assert all(row.user_id == user and row.type == "job_updated" for row in rows)


async def test_a_lease_renewed_just_now_is_not_written_again(runtime: Runtime) -> None:
    user = await make_user(runtime)
    job_id = await add_job(runtime, user)
    runner = await add_runner(runtime)
    await runner.beat()
    await fetch_audio(runner)
    await runner.beat(progress=10)
    lease = (await job_row(runtime, job_id)).lease_expires_at
    online_until = (await runner_row(runtime, runner.id)).online_until
    await runner.beat(progress=20)
    job = await job_row(runtime, job_id)
    # Progress is recorded; the lease stays as it was a moment ago.
    assert job.progress == 20
    assert job.lease_expires_at == lease
    assert (await runner_row(runtime, runner.id)).online_until == online_until
    # Once the last renewal is older than a renewal step, the next beat renews.
    assert online_until is not None
    earlier = online_until - sessions.RENEWAL_STEP - timedelta(seconds=1)
    async with runtime.db.session() as session, session.begin():
        await session.execute(
            update(Runner).where(Runner.id == runner.id).values(online_until=earlier)
        )
    await runner.beat(progress=30)
    renewed = (await runner_row(runtime, runner.id)).online_until
    assert renewed is not None and renewed > online_until
    assert (await job_row(runtime, job_id)).lease_expires_at == renewed


async def test_a_long_poll_whose_runner_hung_up_ends_at_once(runtime: Runtime) -> None:
    user = await make_user(runtime)
    runner = await add_runner(runtime)
    gone = asyncio.Event()
    poll = asyncio.create_task(
        sessions.long_poll(
            runtime, runner.token, runner.session_token, HeartbeatRequest(), 25, gone
        )
    )
    await asyncio.sleep(0.2)
    assert not poll.done()
    gone.set()
    beat = await asyncio.wait_for(poll, 10)
    assert beat.job_id is None
    # Nobody waits any more: new work stays queued until the runner asks again.
    job_id = await add_job(runtime, user)
    await asyncio.sleep(0.3)
    assert (await job_row(runtime, job_id)).status == "queued"
    assert (await runner.beat()).job_id == job_id
