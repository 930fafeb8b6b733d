"""Speech through the whole product with the real ``tiny.en`` model and faster-whisper.

A `projectw serve` appliance (embedded runner) and a server with a remote `projectw runner`:
espeak-ng speech is uploaded through the API and comes back in every download format with a
word error rate of at most 0.25 and word timings inside the audio. Abort mid-transcription, a
crash of the engine process, a missing model and a corrupt model each end their job with a
clear message, and the runner goes on serving the next job.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.engines.speech import SENTENCE, duration, long_speech, speak, wer
from tests.runner.processes import (
    RunnerProcess,
    create_runner_token,
    signed_in,
)
from tests.serving import ServerProcess

pytestmark = [pytest.mark.process, pytest.mark.slow]

ENGLISH = {"model": "tiny.en", "language": "en"}
FORMATS = ("txt", "srt", "vtt", "tsv", "json")
FINISHED = ("succeeded", "failed", "aborted")


def engine_env(tiny_model: Path, corrupt_model: Path) -> dict[str, str]:
    """Runner settings: faster-whisper with tiny.en and a deliberately corrupt base.en."""
    return {
        "PROJECTW_RUNNER__ENGINE": "faster-whisper",
        "PROJECTW_RUNNER__MODEL_PATHS": json.dumps(
            {"tiny.en": str(tiny_model), "base.en": str(corrupt_model)}
        ),
        "PROJECTW_RUNNER__OFFLINE": "true",
        "PROJECTW_RUNNER__PRELOAD_MODELS": '["tiny.en"]',
        # `small` is not on this machine: /api/about must say so.
        "PROJECTW_JOBS__DEFAULT_MODEL": "small",
        "HF_HUB_OFFLINE": "1",
    }


@pytest.fixture(scope="module")
def corrupt_model(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    folder = tmp_path_factory.mktemp("corrupt") / "base.en"
    shutil.copytree(tiny_model, folder)
    (folder / "model.bin").write_bytes(b"\x00this is not a CTranslate2 model\x00" * 4096)
    return folder


@pytest.fixture(scope="module")
def recordings(speech_dir: Path) -> dict[str, Path]:
    sentence = speak(SENTENCE, speech_dir / "e2e-sentence.wav")
    mp3 = speech_dir / "e2e-sentence.mp3"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(sentence), str(mp3)],
        check=True,
    )
    return {"sentence": mp3, "long": long_speech(speech_dir / "e2e-long.wav", 120)}


class Appliance:
    def __init__(self, server: ServerProcess, url: str, user: httpx.Client) -> None:
        self.server, self.url, self.user = server, url, user


@pytest.fixture(scope="module")
def appliance(
    tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, corrupt_model: Path
) -> Iterator[Appliance]:
    data = tmp_path_factory.mktemp("appliance")
    env = engine_env(tiny_model, corrupt_model)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ServerProcess(data, embedded_runner=True, env=env))
        url = server.wait_ready(timeout=120)
        user = signed_in(url, data, "speaker@example.org", admin=True)
        stack.callback(user.close)
        wait_for(lambda: user.get("/api/about").json()["engine"]["runners_online"] == 1, 120)
        yield Appliance(server, url, user)
        assert server.stop(timeout=30) == 0
        assert not any("Traceback" in line for line in server.stderr), "\n".join(server.stderr)


def wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def submit(client: httpx.Client, path: Path, settings: dict[str, Any]) -> int:
    with path.open("rb") as handle:
        response = client.post(
            "/api/jobs",
            files={"file": (path.name, handle)},
            data={"settings": json.dumps(settings)},
        )
    assert response.status_code == 201, response.text
    job_id: int = response.json()["id"]
    return job_id


def job(client: httpx.Client, job_id: int) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
    return body


def wait_finished(client: httpx.Client, job_id: int, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (current := job(client, job_id))["status"] not in FINISHED:
        assert time.monotonic() < deadline, f"job {job_id} still {current['status']}"
        time.sleep(0.2)
    return current


def wait_decoding(client: httpx.Client, job_id: int, timeout: float = 120) -> None:
    """Until the engine reports transcription progress above zero."""
    wait_for(
        lambda: (lambda j: j["stage"] == "transcribing" and j["progress"] > 0)(job(client, job_id)),
        timeout,
    )


def text_of(format: str, body: str) -> str:
    """The spoken words of a downloaded transcript, without times, numbers and markup."""
    if format == "json":
        return " ".join(segment["text"] for segment in json.loads(body)["segments"])
    if format == "tsv":
        rows = [line.split("\t") for line in body.strip().splitlines()[1:]]
        return " ".join(row[-1] for row in rows)
    lines = []
    for line in body.splitlines():
        line = line.strip()
        if not line or line == "WEBVTT" or "-->" in line or line.isdigit():
            continue
        lines.append(re.sub(r"<[^>]+>", "", line))
    return " ".join(lines)


def check_transcribed_in_every_format(client: httpx.Client, job_id: int, audio: Path) -> None:
    length = duration(audio)
    for format in FORMATS:
        response = client.get(f"/api/jobs/{job_id}/transcript", params={"format": format})
        assert response.status_code == 200, (format, response.text)
        spoken = text_of(format, response.text)
        assert wer(SENTENCE, spoken) <= 0.25, (format, spoken)
    canonical = json.loads(
        client.get(f"/api/jobs/{job_id}/transcript", params={"format": "json"}).text
    )
    words = [word for segment in canonical["segments"] for word in segment["words"]]
    assert len(words) >= 10
    for word in words:
        assert 0 <= word["start"] <= word["end"] <= length + 0.05, word


def engine_pid(server: ServerProcess) -> int:
    """The engine process the embedded runner started most recently (from its log line)."""
    lines = [line for line in server.stderr if "engine ready" in line]
    match = re.search(r"pid=(\d+)", lines[-1])
    assert match, lines[-1]
    return int(match.group(1))


def test_speech_through_the_appliance_in_every_format(
    appliance: Appliance, recordings: dict[str, Path]
) -> None:
    job_id = submit(appliance.user, recordings["sentence"], ENGLISH)
    finished = wait_finished(appliance.user, job_id)
    assert finished["status"] == "succeeded", finished
    check_transcribed_in_every_format(appliance.user, job_id, recordings["sentence"])


def test_about_lists_models_and_problems(appliance: Appliance) -> None:
    engine = httpx.get(appliance.url + "/api/about").json()["engine"]
    assert engine["embedded_engine"] == "faster-whisper"
    assert "tiny.en" in engine["models"]
    assert engine["models_downloadable"] is False
    assert len(engine["model_problems"]) == 1
    assert "Model 'small' is not on this runner" in engine["model_problems"][0]


def test_a_model_no_online_runner_has_is_refused_at_submit(
    appliance: Appliance, recordings: dict[str, Path]
) -> None:
    before = appliance.user.get("/api/jobs").json()["total"]
    path = recordings["sentence"]
    with path.open("rb") as handle:
        response = appliance.user.post(
            "/api/jobs",
            files={"file": (path.name, handle)},
            data={"settings": json.dumps({"model": "medium.en", "language": "en"})},
        )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "not_servable"
    assert "the model 'medium.en'" in response.json()["detail"]
    assert appliance.user.get("/api/jobs").json()["total"] == before


def test_abort_mid_transcription(appliance: Appliance, recordings: dict[str, Path]) -> None:
    job_id = submit(appliance.user, recordings["long"], ENGLISH)
    wait_decoding(appliance.user, job_id)
    response = appliance.user.post(f"/api/jobs/{job_id}/abort")
    assert response.status_code == 200, response.text
    assert wait_finished(appliance.user, job_id, timeout=60)["status"] == "aborted"
    # The runner goes on serving.
    next_job = submit(appliance.user, recordings["sentence"], ENGLISH)
    assert wait_finished(appliance.user, next_job)["status"] == "succeeded"


def test_engine_crash_fails_only_that_job(
    appliance: Appliance, recordings: dict[str, Path]
) -> None:
    job_id = submit(appliance.user, recordings["long"], ENGLISH)
    wait_decoding(appliance.user, job_id)
    pid = engine_pid(appliance.server)
    # The engine process yields the CPU to the server (runner.engine_niceness, default 10).
    assert os.getpriority(os.PRIO_PROCESS, pid) >= 10
    os.kill(pid, signal.SIGKILL)
    finished = wait_finished(appliance.user, job_id, timeout=60)
    assert finished["status"] == "failed"
    assert finished["error_code"] == "engine_crashed"
    assert "engine crashed" in finished["error_message"]
    next_job = submit(appliance.user, recordings["sentence"], ENGLISH)
    assert wait_finished(appliance.user, next_job)["status"] == "succeeded"


def test_corrupt_model_fails_the_job_clearly(
    appliance: Appliance, recordings: dict[str, Path]
) -> None:
    job_id = submit(appliance.user, recordings["sentence"], {"model": "base.en", "language": "en"})
    finished = wait_finished(appliance.user, job_id)
    assert finished["status"] == "failed"
    assert re.search(r"Model 'base.en' at .* could not be loaded", finished["error_message"])
    next_job = submit(appliance.user, recordings["sentence"], ENGLISH)
    assert wait_finished(appliance.user, next_job)["status"] == "succeeded"


def test_speech_through_a_remote_runner(
    tmp_path: Path, tiny_model: Path, corrupt_model: Path, recordings: dict[str, Path]
) -> None:
    data = tmp_path / "server"
    env = engine_env(tiny_model, corrupt_model)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ServerProcess(data, env={"HF_HUB_OFFLINE": "1"}))
        url = server.wait_ready(timeout=120)
        user = signed_in(url, data, "remote@example.org", admin=True)
        stack.callback(user.close)
        token = create_runner_token(data, "remote-cpu")
        runner = stack.enter_context(
            RunnerProcess(
                url, token, tmp_path / "runner", "remote-cpu", env, engine="faster-whisper"
            )
        )
        stack.callback(runner.stop, signal.SIGTERM, 30)
        wait_for(lambda: user.get("/api/about").json()["engine"]["runners_online"] == 1, 120)
        about = user.get("/api/about").json()["engine"]
        assert about["embedded_engine"] is None and about["models"] == ["base.en", "tiny.en"]
        job_id = submit(user, recordings["sentence"], ENGLISH)
        finished = wait_finished(user, job_id)
        assert finished["status"] == "succeeded", (finished, "\n".join(runner.lines))
        assert finished["runner_name"] == "remote-cpu"
        check_transcribed_in_every_format(user, job_id, recordings["sentence"])
