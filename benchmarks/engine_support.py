"""Shared by the engine benchmarks: long espeak speech, the tiny.en model, a real appliance."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.engines.speech import PARAGRAPH, duration, long_speech, tiny_model_path
from tests.runner.processes import signed_in
from tests.serving import ServerProcess

SETTINGS = {"model": "tiny.en", "language": "en"}
FINISHED = ("succeeded", "failed", "aborted")

# Model libraries must never reach a hub from a benchmark either.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def speech_file(folder: Path, seconds: float) -> tuple[Path, float, str]:
    """At least ``seconds`` of espeak-ng speech (16 kHz WAV), its duration and its text."""
    path = long_speech(folder / f"speech-{int(seconds)}s.wav", seconds)
    length = duration(path)
    once = duration(path.with_name(path.stem + "-once.wav"))
    return path, length, " ".join([" ".join(PARAGRAPH)] * round(length / once))


def engine_environment(**extra: str) -> dict[str, str]:
    """An appliance whose embedded runner uses faster-whisper with tiny.en, preloaded."""
    return {
        "PROJECTW_RUNNER__ENGINE": "faster-whisper",
        "PROJECTW_RUNNER__MODEL_PATHS": json.dumps({"tiny.en": str(tiny_model_path())}),
        "PROJECTW_RUNNER__OFFLINE": "true",
        "PROJECTW_RUNNER__PRELOAD_MODELS": '["tiny.en"]',
        "PROJECTW_JOBS__DEFAULT_MODEL": "tiny.en",
        "HF_HUB_OFFLINE": "1",
        **extra,
    }


@contextlib.contextmanager
def appliance(data: Path, **extra_env: str) -> Iterator[tuple[ServerProcess, httpx.Client]]:
    """A running `projectw serve` with its embedded runner online, and a signed-in client."""
    with ServerProcess(data, embedded_runner=True, env=engine_environment(**extra_env)) as server:
        url = server.wait_ready(timeout=180)
        client = signed_in(url, data, "bench@example.org", admin=True)
        try:
            deadline = time.monotonic() + 180
            while client.get("/api/about").json()["engine"]["runners_online"] < 1:
                if time.monotonic() > deadline:
                    raise RuntimeError("the embedded runner did not come online")
                time.sleep(0.1)
            yield server, client
        finally:
            client.close()
            server.stop(timeout=60)


def submit(client: httpx.Client, path: Path, settings: dict[str, Any] | None = None) -> int:
    with path.open("rb") as handle:
        response = client.post(
            "/api/jobs",
            files={"file": (path.name, handle)},
            data={"settings": json.dumps(settings or SETTINGS)},
        )
    response.raise_for_status()
    job_id: int = response.json()["id"]
    return job_id


def wait_finished(client: httpx.Client, job_id: int, poll: float = 0.02) -> dict[str, Any]:
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in FINISHED:
            if job["status"] != "succeeded":
                raise RuntimeError(f"job {job_id} {job['status']}: {job['error_message']}")
            return job
        time.sleep(poll)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def report(line: str) -> None:
    """One result line on standard output, at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
