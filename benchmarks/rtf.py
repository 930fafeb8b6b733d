"""Real-time factor of faster-whisper tiny.en (int8, CPU) in the engine: sequential, batched.

Run: .venv/bin/python benchmarks/rtf.py [--seconds 300] [--runs 3] [--batch-size 8]

RTF = transcription wall time / audio duration (lower is faster; 0.1 means ten times faster
than real time). The model is loaded once before timing (the engine keeps it warm), so the
figure is decoding only. Word error rate against the spoken text is printed too, so a faster
setting that transcribes worse shows up.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.engine_support import SETTINGS, report, speech_file
from projectw.runner.engines.faster_whisper import FasterWhisperEngine
from projectw.runner.models import EngineConfig, ModelSources
from tests.engines.speech import tiny_model_path, wer


def measure(audio: Path, length: float, text: str, batch_size: int, runs: int) -> None:
    engine = FasterWhisperEngine(
        EngineConfig(
            sources=ModelSources(model_paths={"tiny.en": tiny_model_path()}, offline=True),
            batch_size=batch_size,
            preload_models=("tiny.en",),
        )
    )
    try:
        times, heard = [], ""
        for _ in range(runs):
            started = time.perf_counter()
            transcript = engine.transcribe(audio, SETTINGS, lambda *_: None, threading.Event())
            times.append(time.perf_counter() - started)
            heard = transcript.text
        median = statistics.median(times)
        mode = "sequential" if batch_size == 1 else f"batched ({batch_size})"
        report(
            f"{mode:<14} median {median:6.2f} s for {length:.0f} s of audio: "
            f"RTF {median / length:.3f} (min {min(times) / length:.3f}, "
            f"max {max(times) / length:.3f}); WER {wer(text, heard):.3f}"
        )
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        audio, length, text = speech_file(Path(folder), args.seconds)
        measure(audio, length, text, 1, args.runs)
        measure(audio, length, text, args.batch_size, args.runs)


if __name__ == "__main__":
    main()
