"""Upload of a 1 GiB recording: peak server memory growth and throughput over loopback.

Run: .venv/bin/python benchmarks/upload.py [--size-mib 1024] [--database-url URL]

A real `projectw serve` process is started on a fresh data dir (SQLite unless a database URL
is given; a PostgreSQL database must exist and be empty). A WAV file of the wanted size is
made with ffmpeg, uploaded with httpx (which streams files from disk), and the server's
resident memory (VmRSS) is sampled every 10 ms. Growth is measured against the RSS after a
small warm-up upload, so one-time imports and caches are not counted. Throughput is the file
size over the whole request: transfer, probe, encryption and storage.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

URL = re.compile(rb"running at (http://\S+?)/?\s*$")
EMAIL = "bench@example.org"
PASSWORD = "benchmark password 1234"
WAV_BYTES_PER_SECOND = 16000 * 2


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_bytes(pid)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, rss_bytes(self.pid))


def make_wav(path: Path, size: int) -> None:
    seconds = max(1.0, (size - 44) / WAV_BYTES_PER_SECOND)
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=16000",
            "-t",
            f"{seconds:.3f}",
            "-ac",
            "1",
            "-c:a",
            "pcm_s16le",
            str(path),
        ],  # fmt: skip
        check=True,
    )


def start_server(data_dir: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "projectw", "serve", "--port", "0", "--data-dir", data_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("server exited before printing its URL")
        match = URL.search(line)
        if match:
            return process, match.group(1).decode()


def sign_in(url: str, data_dir: str, env: dict[str, str]) -> str:
    subprocess.run(
        [sys.executable, "-m", "projectw", "admin", "create-user", EMAIL, "--password-stdin"]
        + ["--data-dir", data_dir],
        input=PASSWORD.encode() + b"\n",
        check=True,
        capture_output=True,
        env=env,
    )
    response = httpx.post(f"{url}/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def upload(url: str, token: str, path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as handle:
        response = httpx.post(
            f"{url}/api/jobs",
            files={"file": (path.name, handle, "audio/wav")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=600,
        )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"upload failed: {response.status_code} {response.text}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    env.update(
        PROJECTW_RUNNER__EMBEDDED="false",
        PROJECTW_JOBS__MAX_UPLOAD_BYTES=str(size + 1024 * 1024),
        PROJECTW_JOBS__MAX_DURATION_SECONDS=str(size // WAV_BYTES_PER_SECOND + 60),
    )
    if args.database_url:
        env["PROJECTW_DATABASE_URL"] = args.database_url
    with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as work:
        big, small = Path(work) / "big.wav", Path(work) / "small.wav"
        make_wav(big, size)
        make_wav(small, 1024 * 1024)
        process, url = start_server(data_dir, env)
        try:
            token = sign_in(url, data_dir, env)
            upload(url, token, small)
            baseline = rss_bytes(process.pid)
            sampler = RssSampler(process.pid)
            sampler.start()
            elapsed = upload(url, token, big)
            sampler.done.set()
            sampler.join()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    mib = 1024 * 1024
    sys.stdout.write(
        f"database: {args.database_url or 'sqlite'}\n"
        f"uploaded {big.stat().st_size / mib if big.exists() else size / mib:.0f} MiB "
        f"in {elapsed:.1f} s: {size / mib / elapsed:.0f} MiB/s\n"
        f"server RSS: baseline {baseline / mib:.0f} MiB, peak {sampler.peak / mib:.0f} MiB, "
        f"growth {(sampler.peak - baseline) / mib:.1f} MiB\n"
    )


if __name__ == "__main__":
    main()
