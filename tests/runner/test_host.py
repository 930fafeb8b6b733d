"""The engine host: a child process per engine, aborts honoured or enforced, crashes contained."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from projectw.runner.engines.base import EngineCancelled, EngineError
from projectw.runner.host import EngineCrashed, EngineHost, EngineUnavailable
from tests.media import MediaFactory

SETTINGS = {"model": "tiny", "language": "en", "diarization": {}}


def _progress_log() -> tuple[list[tuple[str, float]], object]:
    seen: list[tuple[str, float]] = []
    return seen, lambda stage, percent: seen.append((stage, percent))


async def test_dummy_engine_in_its_own_process(media: MediaFactory) -> None:
    host = EngineHost("dummy", {"dummy_seconds_per_audio_second": 0.05})
    try:
        capabilities = await host.start()
        assert capabilities.engine == "dummy"
        assert host.pid is not None and host.pid != os.getpid()
        seen: list[tuple[str, float]] = []
        transcript = await host.transcribe(
            1, media.path("wav"), SETTINGS, lambda s, p: seen.append((s, p)), asyncio.Event()
        )
        assert transcript.engine is not None and transcript.engine.name == "dummy"
        assert transcript.duration is not None and transcript.duration > 1
        assert transcript.segments[0].speaker == "SPEAKER_00"
        last_end = max(word.end or 0 for s in transcript.segments for word in s.words)
        assert 0 < last_end <= transcript.duration
        assert seen[0][0] == "transcribing"
        assert seen[-1] == ("transcribing", 100.0)
        first_pid = host.pid
        again = await host.transcribe(
            2, media.path("wav"), SETTINGS, lambda s, p: None, asyncio.Event()
        )
        assert again == transcript, "deterministic"
        assert host.pid == first_pid, "the engine process stays warm between jobs"
    finally:
        await host.close()
    assert host.pid is None


async def test_an_abort_stops_the_engine(media: MediaFactory) -> None:
    host = EngineHost("dummy", {"dummy_seconds_per_audio_second": 20})
    try:
        await host.start()
        pid = host.pid
        cancel = asyncio.Event()
        work = asyncio.create_task(
            host.transcribe(1, media.path("wav"), SETTINGS, lambda s, p: None, cancel)
        )
        await asyncio.sleep(0.5)
        cancel.set()
        with pytest.raises(EngineCancelled):
            await asyncio.wait_for(work, 5)
        assert host.pid == pid, "a cooperative engine is not killed"
    finally:
        await host.close()


async def test_an_engine_that_ignores_an_abort_is_killed_and_replaced(
    media: MediaFactory,
) -> None:
    host = EngineHost(
        "tests.runner.stub_engines:stubborn", {"stubborn_seconds": 60}, abort_grace=0.5
    )
    try:
        await host.start()
        pid = host.pid
        cancel = asyncio.Event()
        work = asyncio.create_task(
            host.transcribe(1, media.path("wav"), SETTINGS, lambda s, p: None, cancel)
        )
        await asyncio.sleep(0.5)
        cancel.set()
        with pytest.raises(EngineCancelled):
            await asyncio.wait_for(work, 5)
        await host.start()
        assert host.pid is not None and host.pid != pid
    finally:
        await host.close()


async def test_a_crash_fails_only_that_job(media: MediaFactory) -> None:
    host = EngineHost("tests.runner.stub_engines:crashing", {})
    try:
        await host.start()
        crash = {**SETTINGS, "asr_settings": {"initial_prompt": "crash"}}
        with pytest.raises(EngineCrashed, match="killed by signal 9"):
            await host.transcribe(1, media.path("wav"), crash, lambda s, p: None, asyncio.Event())
        transcript = await host.transcribe(
            2, media.path("wav"), SETTINGS, lambda s, p: None, asyncio.Event()
        )
        assert transcript.segments
    finally:
        await host.close()


async def test_engine_errors_are_sentences(tmp_path: Path) -> None:
    host = EngineHost("dummy", {})
    try:
        not_audio = tmp_path / "notes.txt"
        not_audio.write_text("not a recording")
        with pytest.raises(EngineError, match="could not be read"):
            await host.transcribe(1, not_audio, SETTINGS, lambda s, p: None, asyncio.Event())
    finally:
        await host.close()


@pytest.mark.parametrize(
    ("engine", "message"),
    [
        ("tests.runner.stub_engines:broken", "the model file is corrupt"),
        ("no-such-engine", "There is no engine named 'no-such-engine'"),
        ("tests.runner.nothing_here:create", "does not exist"),
    ],
)
async def test_an_engine_that_cannot_start_says_why(engine: str, message: str) -> None:
    host = EngineHost(engine, {})
    with pytest.raises(EngineUnavailable, match=message):
        await host.start()
    await host.close()
