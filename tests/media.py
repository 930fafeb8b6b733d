"""Real media files for tests, made with espeak-ng and ffmpeg (and cached per session).

media = MediaFactory(directory)
media.path("mp3")        # spoken English in an MP3
media.path("video")      # an MP4 video with an audio track
media.speech("Other words.", "ogg")
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

DEFAULT_TEXT = "Hello world. This is a test recording for Project W."

# kind → (file name suffix, ffmpeg output arguments) for speech converted from WAV.
_AUDIO_KINDS: dict[str, tuple[str, list[str]]] = {
    "wav": (".wav", []),
    "mp3": (".mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
    "ogg": (".ogg", ["-c:a", "libopus", "-b:a", "32k"]),
    "opus": (".opus", ["-c:a", "libopus", "-b:a", "32k"]),
    "m4a": (".m4a", ["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"]),
    "flac": (".flac", ["-c:a", "flac"]),
}
KINDS = (
    *_AUDIO_KINDS,
    "webm",
    "video",
    "mkv",
    "video_without_audio",
    "truncated",
    "text",
    "empty",
)


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _ffmpeg(*args: str) -> None:
    _run("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args)


class MediaFactory:
    """Makes each kind of file once in ``directory`` and hands out its path."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def speech(self, text: str = DEFAULT_TEXT, kind: str = "wav") -> Path:
        """``text`` spoken by espeak-ng, in the given audio or video kind."""
        key = hashlib.sha256(text.encode()).hexdigest()[:12]
        wav = self.directory / f"speech-{key}.wav"
        if not wav.exists():
            _run("espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), text)
        if kind == "wav":
            return wav
        if kind in _AUDIO_KINDS:
            suffix, args = _AUDIO_KINDS[kind]
            out = self.directory / f"speech-{key}{suffix}"
            if not out.exists():
                _ffmpeg("-i", str(wav), *args, str(out))
            return out
        if kind in ("video", "webm", "mkv"):
            suffix, codecs = {
                "video": (".mp4", ["-c:v", "libx264", "-c:a", "aac"]),
                "webm": (".webm", ["-c:v", "libvpx", "-c:a", "libopus"]),
                "mkv": (".mkv", ["-c:v", "libx264", "-c:a", "flac"]),
            }[kind]
            out = self.directory / f"speech-{key}-{kind}{suffix}"
            if not out.exists():
                _ffmpeg(
                    "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
                    "-i", str(wav), "-shortest", "-pix_fmt", "yuv420p", *codecs, str(out),
                )  # fmt: skip
            return out
        raise ValueError(f"no speech in kind {kind!r}")

    def path(self, kind: str) -> Path:
        """A file of one of KINDS."""
        if kind in _AUDIO_KINDS or kind in ("video", "webm", "mkv"):
            return self.speech(kind=kind)
        out = (
            self.directory
            / {
                "video_without_audio": "silent-video.mp4",
                "truncated": "truncated.m4a",
                "text": "notes.mp3",
                "empty": "empty.wav",
            }[kind]
        )
        if out.exists():
            return out
        if kind == "video_without_audio":
            _ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "2",
                "-pix_fmt", "yuv420p", "-c:v", "libx264", str(out),
            )  # fmt: skip
        elif kind == "truncated":
            # With the index at the front, cutting the file keeps it openable but short.
            whole = self.directory / "whole-faststart.m4a"
            _ffmpeg(
                "-i", str(self.speech()), "-c:a", "aac", "-movflags", "+faststart", str(whole)
            )  # fmt: skip
            data = whole.read_bytes()
            out.write_bytes(data[: len(data) // 2])
        elif kind == "text":
            out.write_text("Meeting notes: nothing here is audio, despite the name.\n" * 20)
        elif kind == "empty":
            out.write_bytes(b"")
        return out

    def silence(self, seconds: float, kind: str = "wav") -> Path:
        """``seconds`` of silence (mono 16 kHz) as ``kind`` (wav, mp3, …)."""
        suffix, args = _AUDIO_KINDS[kind]
        out = self.directory / f"silence-{seconds:g}{suffix}"
        if not out.exists():
            _ffmpeg(
                "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", f"{seconds:g}",
                *args, str(out),
            )  # fmt: skip
        return out

    def cut(self, source: Path, keep: float) -> Path:
        """The first ``keep`` fraction (0..1) of ``source``'s bytes, as a truncated upload."""
        out = self.directory / f"cut-{keep:g}-{source.name}"
        data = source.read_bytes()
        out.write_bytes(data[: int(len(data) * keep)])
        return out
