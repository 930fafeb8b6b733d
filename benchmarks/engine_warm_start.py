"""Warm models: how soon after a job is claimed the engine starts decoding it.

Run: .venv/bin/python benchmarks/engine_warm_start.py [--jobs 6]

A `projectw serve` appliance (embedded runner, faster-whisper, tiny.en not preloaded) gets
short recordings one after the other. For each job: from its claim (the job's `assigned_at`)
to the engine's "decoding started" log line (engine process, millisecond timestamps, same
clock). That covers the claim answer, fetching the audio, handing the job to the engine
process, resolving the model, decoding the audio file and taking the loaded model. The first
job loads the model; the later ones find it warm. Goal: warm jobs under 200 ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.engine_support import appliance, report, submit, wait_finished
from tests.engines.speech import SENTENCE, speak

DECODING = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO .*: decoding started")


def decoding_times(lines: list[str]) -> list[datetime]:
    found = []
    for line in lines:
        match = DECODING.match(line)
        if match:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
            found.append(stamp.replace(tzinfo=UTC))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        audio = speak(SENTENCE, Path(folder) / "sentence.wav")
        env = {"PROJECTW_RUNNER__PRELOAD_MODELS": "[]", "TZ": "UTC"}
        with appliance(Path(folder) / "data", **env) as (server, client):
            claims = []
            for _ in range(args.jobs):
                job = wait_finished(client, submit(client, audio))
                claims.append(datetime.fromisoformat(job["assigned_at"].replace("Z", "+00:00")))
            time.sleep(0.5)
            starts = decoding_times(server.stderr)
    if len(starts) != len(claims):
        raise RuntimeError(f"{len(starts)} 'decoding started' lines for {len(claims)} jobs")
    delays = [
        (start - claim).total_seconds() * 1000 for claim, start in zip(claims, starts, strict=True)
    ]
    warm = delays[1:]
    report(f"first job (model loaded): {delays[0]:.0f} ms from claim to decoding")
    report(
        f"warm jobs ({len(warm)}): median {statistics.median(warm):.0f} ms, "
        f"max {max(warm):.0f} ms from claim to decoding (goal < 200 ms)"
    )


if __name__ == "__main__":
    main()
