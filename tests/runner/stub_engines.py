"""Engines that misbehave on purpose, to show the engine host contains them.

Real engines cannot be made to hang in native code or crash on demand, so these stand in:
``stubborn`` ignores aborts (like an engine stuck mid-segment), ``crashing`` kills its own
process (like a segfault or the OOM killer), ``broken`` cannot even start (like a corrupt model).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from projectw.runner.engines.base import Capabilities, ProgressFn
from projectw.runner.engines.dummy import DummyEngine
from projectw.transcripts.model import Transcript


class StubbornEngine(DummyEngine):
    """Works for ``seconds`` without ever looking at the abort flag."""

    name = "stubborn"

    def __init__(self, seconds: float) -> None:
        super().__init__(0)
        self.seconds = seconds

    def transcribe(
        self,
        audio: Path,
        settings: Mapping[str, Any],
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> Transcript:
        progress("stuck", 1.0)
        time.sleep(self.seconds)
        return super().transcribe(audio, settings, progress, threading.Event())


class CrashingEngine(DummyEngine):
    """Kills its own process when the job's initial prompt is "crash"; else the dummy."""

    name = "crashing"

    def transcribe(
        self,
        audio: Path,
        settings: Mapping[str, Any],
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> Transcript:
        if (settings.get("asr_settings") or {}).get("initial_prompt") == "crash":
            progress("crashing", 5.0)
            os.kill(os.getpid(), signal.SIGKILL)
        return super().transcribe(audio, settings, progress, cancelled)

    def capabilities(self) -> Capabilities:
        return super().capabilities().model_copy(update={"engine": self.name})


def stubborn(options: Mapping[str, Any]) -> StubbornEngine:
    return StubbornEngine(float(options.get("stubborn_seconds", 30)))


def crashing(options: Mapping[str, Any]) -> CrashingEngine:
    return CrashingEngine(float(options.get("dummy_seconds_per_audio_second", 0)))


def broken(_options: Mapping[str, Any]) -> DummyEngine:
    raise RuntimeError("the model file is corrupt")
