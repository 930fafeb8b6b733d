"""The dummy engine: no speech recognition, a deterministic transcript in the audio's shape.

It reads the recording's real duration, works ``seconds_per_audio_second`` per second of audio
(reporting progress and honouring aborts), and returns a fixed text spread evenly over the
recording, in segments with timed words (and two alternating speakers when diarization is
asked for), so that every download format and option can be rendered and checked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import av

from projectw.runner.engines.base import (
    Capabilities,
    EngineCancelled,
    EngineError,
    ProgressFn,
)
from projectw.transcripts.model import EngineInfo, Segment, Transcript, Word

TEXT = [
    "this", "is", "the", "dummy", "engine", "of", "project", "w", "it", "does", "not",
    "listen", "to", "the", "recording", "it", "spreads", "this", "fixed", "text", "over",
    "the", "length", "of", "the", "audio", "so", "that", "every", "format", "can", "be",
    "rendered", "and", "checked",
]  # fmt: skip
WORD_SECONDS = 0.4
WORDS_PER_SEGMENT = 8
STAGE = "transcribing"
# How often the work loop looks at the abort flag and reports progress.
_TICK = 0.05


def audio_duration(audio: Path) -> float:
    """The recording's duration in seconds; EngineError if it cannot be read."""
    try:
        with av.open(str(audio)) as container:
            if container.duration:
                return float(container.duration / av.time_base)
            stream = container.streams.audio[0]
            last = 0.0
            base = stream.time_base
            for packet in container.demux(stream):
                if base is not None and packet.pts is not None and packet.duration is not None:
                    last = max(last, float((packet.pts + packet.duration) * base))
            return last
    except (av.FFmpegError, IndexError, OSError) as exc:
        raise EngineError(f"The recording could not be read ({exc}).") from None


def dummy_transcript(duration: float, settings: Mapping[str, Any]) -> Transcript:
    """The fixed text spread over ``duration`` seconds."""
    count = max(1, int(duration / WORD_SECONDS))
    step = duration / count if duration > 0 else 0.0
    words = [
        Word(
            word=TEXT[i % len(TEXT)],
            start=round(i * step, 3),
            end=round((i + 0.9) * step, 3),
            probability=0.9,
        )
        for i in range(count)
    ]
    diarize = settings.get("diarization") is not None
    segments = []
    for number, first in enumerate(range(0, count, WORDS_PER_SEGMENT)):
        chunk = words[first : first + WORDS_PER_SEGMENT]
        speaker = f"SPEAKER_{number % 2:02d}" if diarize else None
        if speaker is not None:
            chunk = [word.model_copy(update={"speaker": speaker}) for word in chunk]
        segments.append(
            Segment(
                start=chunk[0].start or 0.0,
                end=chunk[-1].end or 0.0,
                text=" ".join(word.word for word in chunk),
                speaker=speaker,
                words=chunk,
            )
        )
    language = settings.get("language") or "en"
    return Transcript(
        language=str(language),
        duration=round(duration, 3),
        segments=segments,
        engine=EngineInfo(name="dummy", model=str(settings.get("model") or "") or None),
    )


class DummyEngine:
    """Serves every model and feature; transcribes nothing."""

    name = "dummy"

    def __init__(self, seconds_per_audio_second: float = 0.05) -> None:
        self.seconds_per_audio_second = seconds_per_audio_second

    def capabilities(self) -> Capabilities:
        return Capabilities(
            engine=self.name,
            downloadable=True,
            features=["translate", "alignment", "diarization", "vad"],
        )

    def transcribe(
        self,
        audio: Path,
        settings: Mapping[str, Any],
        progress: ProgressFn,
        cancelled: threading.Event,
    ) -> Transcript:
        duration = audio_duration(audio)
        work = duration * self.seconds_per_audio_second
        started = time.monotonic()
        progress(STAGE, 0.0)
        while (elapsed := time.monotonic() - started) < work:
            if cancelled.wait(min(_TICK, work - elapsed)):
                raise EngineCancelled()
            progress(STAGE, min(100.0, 100.0 * (time.monotonic() - started) / work))
        if cancelled.is_set():
            raise EngineCancelled()
        progress(STAGE, 100.0)
        return dummy_transcript(duration, settings)

    def close(self) -> None:
        return None


def create(options: Mapping[str, Any]) -> DummyEngine:
    return DummyEngine(float(options.get("dummy_seconds_per_audio_second", 0.05)))
