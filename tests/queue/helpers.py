"""Driving a fake runner through a job with the queue services."""

from __future__ import annotations

from projectw.jobs.queue import results
from projectw.protocol import SubmitResultRequest, SubmitResultResponse
from projectw.transcripts.model import Segment, Transcript
from tests.queue.conftest import FakeRunner


def transcript(text: str = "hello world") -> Transcript:
    return Transcript(language="en", segments=[Segment(start=0.0, end=1.0, text=text)])


async def fetch_audio(runner: FakeRunner) -> bytes:
    """Fetch the recording of the runner's job (the job becomes running)."""
    audio = await results.open_audio(runner.runtime, runner.token, runner.session_token)
    return b"".join([chunk async for chunk in audio.chunks])


async def succeed(runner: FakeRunner, job_id: int | None = None) -> SubmitResultResponse:
    return await results.submit_result(
        runner.runtime,
        runner.token,
        runner.session_token,
        SubmitResultRequest(result=transcript(), job_id=job_id),
    )


async def fail(runner: FakeRunner, message: str = "boom") -> SubmitResultResponse:
    return await results.submit_result(
        runner.runtime, runner.token, runner.session_token, SubmitResultRequest(error_msg=message)
    )


async def run_next(runner: FakeRunner) -> int | None:
    """Take the next job, fetch it and succeed; the job's id, or None if there was none."""
    beat = await runner.beat()
    if beat.job_id is None:
        return None
    await fetch_audio(runner)
    await succeed(runner, beat.job_id)
    return beat.job_id
