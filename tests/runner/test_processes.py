"""Real processes: a `projectw serve` and three `projectw runner --engine dummy` runners.

50 jobs from two users succeed exactly once; a runner killed with SIGKILL mid-job loses
nothing; a server restarted mid-run, or down for 20 s, assigns nothing twice and loses nothing.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.media import MediaFactory
from tests.runner.processes import (
    PASSWORD,
    RunnerProcess,
    create_runner_token,
    free_port,
    signed_in,
    upload,
    wait_until_finished,
)
from tests.serving import ServerProcess

pytestmark = [pytest.mark.process, pytest.mark.slow]

# Short leases so that a killed runner's job comes back within seconds.
SERVER_ENV = {
    "PROJECTW_QUEUE__LEASE_SECONDS": "6",
    "PROJECTW_QUEUE__REAPER_INTERVAL_SECONDS": "1",
}
# A 3 s recording takes the dummy engine about 1.2 s.
RUNNER_ENV = {"PROJECTW_RUNNER__DUMMY_SECONDS_PER_AUDIO_SECOND": "0.4"}


class Cluster:
    """One server process on a fixed port, its data dir, three runner processes."""

    def __init__(self, tmp_path: Path, server_env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.data = tmp_path / "server"
        self.port = free_port()
        self.server_env = server_env
        self.server: ServerProcess | None = None
        self.runners: list[RunnerProcess] = []
        self.clients: list[httpx.Client] = []

    def start_server(self) -> str:
        self.server = ServerProcess(self.data, "--port", str(self.port), env=self.server_env)
        return self.server.wait_ready()

    def stop_server(self, sig: int = signal.SIGTERM) -> None:
        assert self.server is not None
        self.server.stop(sig)
        self.server.__exit__()
        self.server = None

    def start_runners(self, url: str, count: int = 3) -> None:
        for number in range(count):
            token = create_runner_token(self.data, f"runner-{number}")
            runner = RunnerProcess(
                url, token, self.tmp_path / f"runner-{number}", f"runner-{number}", RUNNER_ENV
            )
            self.runners.append(runner)
        for runner in self.runners:
            runner.wait_registered()

    def users(self, url: str) -> tuple[httpx.Client, httpx.Client, httpx.Client]:
        """An admin and two users, signed in."""
        self.clients = [
            signed_in(url, self.data, "admin@example.org", admin=True),
            signed_in(url, self.data, "ada@example.org"),
            signed_in(url, self.data, "bob@example.org"),
        ]
        admin, ada, bob = self.clients
        return admin, ada, bob

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for runner in self.runners:
            runner.__exit__()
        if self.server is not None:
            self.server.__exit__()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path, SERVER_ENV)
    try:
        yield running
    finally:
        running.close()


def _started_per_job(cluster: Cluster) -> dict[int, int]:
    counts: dict[int, int] = {}
    for runner in cluster.runners:
        for job_id in runner.jobs_started():
            counts[job_id] = counts.get(job_id, 0) + 1
    return counts


def _wait_running(clients: list[httpx.Client], timeout: float = 60) -> dict[str, Any]:
    """The first job seen running, of any of these users."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for client in clients:
            running = client.get("/api/jobs", params={"status": "running"}).json()["items"]
            if running:
                return dict(running[0])
        time.sleep(0.05)
    raise AssertionError("no job started running")


def test_fifty_jobs_and_a_killed_runner(cluster: Cluster, media: MediaFactory) -> None:
    url = cluster.start_server()
    admin, ada, bob = cluster.users(url)
    cluster.start_runners(url)
    recording = media.path("wav")
    for index in range(50):
        upload(ada if index % 2 else bob, recording)
    # Kill a runner (SIGKILL: no goodbye) while it works on a job.
    running = _wait_running([ada, bob])
    victim = next(r for r in cluster.runners if r.name == running["runner_name"])
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(10)

    jobs = wait_until_finished([ada, bob], 50)
    assert len(jobs) == 50
    assert {job["status"] for job in jobs.values()} == {"succeeded"}
    # The job the victim held came back once and was finished by another runner.
    retried = [job for job in jobs.values() if job["attempts"]]
    assert [job["attempts"] for job in retried] == [1]
    assert retried[0]["runner_name"] != victim.name
    # Exactly once: one success per job, and no job was started by two live runners.
    runners = admin.get("/api/admin/runners").json()["runners"]
    assert sum(r["jobs_succeeded"] for r in runners) == 50
    assert sum(r["jobs_failed"] for r in runners) == 0
    started = _started_per_job(cluster)
    assert sorted(started) == sorted(jobs)
    assert all(count == 1 for job_id, count in started.items() if job_id != retried[0]["id"])
    for runner in cluster.runners:
        if runner is not victim:
            assert runner.stop() == 0
    assert [r for r in admin.get("/api/admin/runners").json()["runners"] if r["online"]] == []


def test_a_server_restart_mid_run(tmp_path: Path, media: MediaFactory) -> None:
    # Default lease (60 s): a restart of a few seconds costs no job an attempt.
    cluster = Cluster(tmp_path, {"PROJECTW_QUEUE__REAPER_INTERVAL_SECONDS": "1"})
    try:
        _restart_mid_run(cluster, media)
    finally:
        cluster.close()


def _restart_mid_run(cluster: Cluster, media: MediaFactory) -> None:
    url = cluster.start_server()
    _admin, ada, bob = cluster.users(url)
    cluster.start_runners(url)
    recording = media.path("wav")
    for index in range(20):
        upload(ada if index % 2 else bob, recording)
    _wait_running([ada, bob])
    cluster.stop_server()
    assert cluster.start_server() == url
    jobs = wait_until_finished([ada, bob], 20)
    assert {job["status"] for job in jobs.values()} == {"succeeded"}
    assert all(job["attempts"] == 0 for job in jobs.values())
    assert all(count == 1 for count in _started_per_job(cluster).values()), "nothing twice"
    assert len(_started_per_job(cluster)) == 20


def test_the_server_down_for_twenty_seconds(tmp_path: Path, media: MediaFactory) -> None:
    # Default lease (60 s): runners that come back within it keep their sessions.
    cluster = Cluster(tmp_path, {"PROJECTW_QUEUE__REAPER_INTERVAL_SECONDS": "1"})
    try:
        url = cluster.start_server()
        _admin, ada, bob = cluster.users(url)
        cluster.start_runners(url)
        recording = media.path("wav")
        for index in range(12):
            upload(ada if index % 2 else bob, recording)
        _wait_running([ada, bob])
        cluster.stop_server()
        time.sleep(20)
        assert all(r.process.poll() is None for r in cluster.runners), "runners keep going"
        cluster.start_server()
        jobs = wait_until_finished([ada, bob], 12)
        assert {job["status"] for job in jobs.values()} == {"succeeded"}
        assert all(count == 1 for count in _started_per_job(cluster).values())
        assert len(_started_per_job(cluster)) == 12
        assert any("succeeded again" in line for r in cluster.runners for line in r.lines)
    finally:
        cluster.close()


def test_the_appliance_transcribes_with_its_embedded_runner(
    tmp_path: Path, media: MediaFactory
) -> None:
    data = tmp_path / "appliance"
    with (
        contextlib.ExitStack() as stack,
        ServerProcess(
            data,
            embedded_runner=True,
            env={
                "PROJECTW_RUNNER__ENGINE": "dummy",
                "PROJECTW_RUNNER__DUMMY_SECONDS_PER_AUDIO_SECOND": "0",
            },
        ) as server,
    ):
        url = server.wait_ready()
        about = httpx.get(url + "/api/about").json()["engine"]
        assert about["embedded_engine"] == "dummy"
        assert "dummy" in about["notice"]
        user = signed_in(url, data, "solo@example.org", admin=True)
        stack.callback(user.close)
        job_id = upload(user, media.path("mp3"))
        jobs = wait_until_finished([user], 1, timeout=60)
        assert jobs[job_id]["status"] == "succeeded"
        assert jobs[job_id]["runner_name"] == "embedded"
        text = user.get(f"/api/jobs/{job_id}/transcript", params={"format": "srt"})
        assert text.status_code == 200 and "-->" in text.text
        runners = user.get("/api/admin/runners").json()["runners"]
        assert [(r["embedded"], r["online"]) for r in runners] == [(True, True)]
        assert server.stop() == 0
    assert not any("Traceback" in line for line in server.stderr)


def test_the_appliance_stopped_mid_job_finishes_it_after_a_restart(
    tmp_path: Path, media: MediaFactory
) -> None:
    data = tmp_path / "appliance"
    env = {
        "PROJECTW_RUNNER__ENGINE": "dummy",
        # About 20 s of work for the recording: the server stops in the middle of it.
        "PROJECTW_RUNNER__DUMMY_SECONDS_PER_AUDIO_SECOND": "6",
    }
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(ServerProcess(data, embedded_runner=True, env=env))
        url = first.wait_ready()
        user = signed_in(url, data, "solo@example.org", admin=True)
        stack.callback(user.close)
        job_id = upload(user, media.path("wav"))
        _wait_running([user])
        assert first.stop() == 0
    assert not any("Traceback" in line for line in first.stderr), "\n".join(first.stderr)
    fast = {**env, "PROJECTW_RUNNER__DUMMY_SECONDS_PER_AUDIO_SECOND": "0"}
    with contextlib.ExitStack() as stack:
        second = stack.enter_context(ServerProcess(data, embedded_runner=True, env=fast))
        url = second.wait_ready()
        owner = httpx.Client(base_url=url, timeout=30)
        stack.callback(owner.close)
        login = owner.post(
            "/api/auth/login", json={"email": "solo@example.org", "password": PASSWORD}
        )
        owner.headers["Authorization"] = f"Bearer {login.json()['token']}"
        job = wait_until_finished([owner], 1, timeout=60)[job_id]
        # The embedded runner gave the job back when the server stopped: no attempt was lost.
        assert (job["status"], job["attempts"]) == ("succeeded", 0)
        assert second.stop() == 0
