"""Service overhead: a 5-minute recording through the appliance against faster-whisper alone.

Run: .venv/bin/python benchmarks/service_overhead.py [--seconds 300] [--runs 3]

Appliance: `projectw serve` with its embedded runner (faster-whisper, tiny.en preloaded), timed
from the start of the upload to the job's `succeeded` (polled every 100 ms): upload, probing,
encrypted storage, claim, audio fetch, decoding, result storage. Raw: faster-whisper's
WhisperModel in this process with the same model folder, device, compute type, threads and
decoding arguments (those the engine derives from the same job settings), timed from decoding
the file to the last segment. Both have the model loaded before timing; runs alternate.

Other load on a shared machine makes the two timings differ by more than the overhead, so each
appliance run is also split using the engine's own log: its decoding span ("decoding started" to
"decoding finished", same clock) against everything else (upload to decoding, storing the
result, noticing success). The estimate 1 + service / raw is steady under load. The
engine process runs at normal priority here (runner.engine_niceness 0), like the raw call, so
that other load on the machine slows both alike. Goal: appliance ≤ 1.05 × raw.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from benchmarks.engine_support import (
    SETTINGS,
    appliance,
    report,
    speech_file,
    submit,
    wait_finished,
)
from projectw.runner.engines.faster_whisper import decode_arguments
from projectw.runner.engines.job_options import read_job_options
from projectw.runner.models import EngineConfig, choose_device
from tests.engines.speech import speak, tiny_model_path

STAMP = re.compile(r"^(\S+ \S+) INFO .*: decoding (started|finished)")


def decoding_span(lines: list[str]) -> float:
    """Seconds between the last "decoding started" and "decoding finished" engine log lines."""
    stamps: dict[str, datetime] = {}
    for line in lines:
        match = STAMP.match(line)
        if match:
            stamps[match.group(2)] = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
    return (stamps["finished"] - stamps["started"]).total_seconds()


def raw_run(model: object, audio: Path) -> float:
    from faster_whisper.audio import decode_audio

    options = read_job_options(SETTINGS)
    arguments = decode_arguments(options, options.decode.suppress_tokens)
    started = time.perf_counter()
    samples = decode_audio(str(audio), sampling_rate=16000)
    segments, _info = model.transcribe(samples, **arguments)  # type: ignore[attr-defined]
    for _segment in segments:
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from faster_whisper import WhisperModel

    with tempfile.TemporaryDirectory() as folder:
        audio, length, _text = speech_file(Path(folder), args.seconds)
        warm_up = speak("Warming up.", Path(folder) / "warm.wav")
        device, compute_type = choose_device("auto", "auto")
        model = WhisperModel(
            str(tiny_model_path()),
            device=device,
            compute_type=compute_type,
            cpu_threads=EngineConfig().threads(),
        )
        raw_times, service_times, outside = [], [], []
        data = Path(folder) / "data"
        with appliance(data, PROJECTW_RUNNER__ENGINE_NICENESS="0") as (server, client):
            wait_finished(client, submit(client, warm_up))
            raw_run(model, warm_up)
            for run in range(args.runs):
                started = time.perf_counter()
                wait_finished(client, submit(client, audio), poll=0.1)
                service_times.append(time.perf_counter() - started)
                time.sleep(0.2)
                span = decoding_span(server.stderr)
                outside.append(service_times[-1] - span)
                raw_times.append(raw_run(model, audio))
                report(
                    f"run {run + 1}: appliance {service_times[-1]:.2f} s (engine decoding "
                    f"{span:.2f} s, the rest {outside[-1]:.2f} s), raw {raw_times[-1]:.2f} s"
                )
    service, raw = statistics.median(service_times), statistics.median(raw_times)
    rest = statistics.median(outside)
    report(
        f"{length:.0f} s of speech: appliance median {service:.2f} s, raw median {raw:.2f} s, "
        f"ratio {service / raw:.3f}; outside decoding median {rest:.2f} s, "
        f"estimate 1 + {rest:.2f}/{raw:.2f} = {1 + rest / raw:.3f} (goal ≤ 1.05)"
    )


if __name__ == "__main__":
    main()
