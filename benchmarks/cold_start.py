"""Cold start: time from launching `projectw serve` to the first 200 on /readyz.

Run: .venv/bin/python benchmarks/cold_start.py [--runs 10]
The data dir is migrated once first, so the figure excludes first-run migrations.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

URL = re.compile(rb"running at (http://\S+?)/?\s*$")


def start_once(data_dir: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "projectw", "serve", "--port", "0", "--data-dir", data_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = None
        while url is None:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("server exited before printing its URL")
            match = URL.search(line)
            url = match.group(1).decode() if match else None
        with httpx.Client() as client:
            while True:
                try:
                    if client.get(url + "/readyz", timeout=5).status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass
                time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        process.stdout.close()  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        first = start_once(data_dir)
        times = [start_once(data_dir) for _ in range(args.runs)]
    times.sort()
    sys.stdout.write(
        f"first start (with migrations): {first * 1000:.0f} ms\n"
        f"cold start to /readyz over {args.runs} runs: "
        f"median {statistics.median(times) * 1000:.0f} ms, "
        f"min {times[0] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms\n"
    )


if __name__ == "__main__":
    main()
