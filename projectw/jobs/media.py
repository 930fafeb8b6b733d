"""Probing uploaded media with PyAV: is there audio, is it whole, how long is it.

The client's Content-Type and file name are never trusted; the bytes decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from projectw.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia

# A demuxed audio track may be this much shorter than the header announces before the file is
# called truncated: encoders pad and round, so only a clear shortfall counts.
_TRUNCATION_SLACK = 0.05
_TRUNCATION_MIN_SECONDS = 0.5
# Packets decoded to prove the audio is decodable, not merely present.
_DECODE_CHECK_PACKETS = 8
# Seconds before the announced end from which packets are read to find the real end.
_TAIL_SECONDS = 30.0


# FFmpeg names the MP4 family after QuickTime's "mov"; users know it as MP4.
_CONTAINER_NAMES = {"mov": "mp4"}


@dataclass(frozen=True)
class MediaInfo:
    """What the probe found out about a recording."""

    container: str
    codec: str
    channels: int
    sample_rate: int
    duration_seconds: float


class MediaUnreadable(InvalidInput):
    """The file is not media Project-W can read, or it is damaged."""

    code = "media_unreadable"


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _human(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def _scan(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    *,
    full: bool,
    decode: int = _DECODE_CHECK_PACKETS,
) -> tuple[float, int]:
    """Demux from the current position: (end time of the last packet, packets decoded).

    Decodes the first ``decode`` packets; stops after them unless ``full``.
    """
    end = 0.0
    decoded = 0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base is not None:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        if decoded < decode and packet.size:
            packet.decode()
            decoded += 1
        elif not full and decoded >= decode:
            break
    return end, decoded


def probe_media(path: Path, max_duration_seconds: float) -> MediaInfo:
    """Check the audio decodes, is whole and not too long (blocking: run in a thread).

    Decodes the start of the audio track and reads the packets of its last seconds (all of
    them when the file announces no duration), so probing a 1 GiB file takes milliseconds.

    Raises UnsupportedMedia (no audio), MediaUnreadable (not media, damaged or truncated) or
    PayloadTooLarge (longer than allowed), each with a sentence a user understands.
    """
    if path.stat().st_size == 0:
        raise MediaUnreadable("The file is empty.")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError:
        raise MediaUnreadable(
            "The file could not be read as audio or video; it may be damaged, truncated "
            "or not a media file."
        ) from None
    with container:
        if not container.streams.audio:
            raise UnsupportedMedia(
                "The file contains no audio track, so there is nothing to transcribe."
            )
        stream = container.streams.audio[0]
        context = stream.codec_context
        announced = _seconds(stream.duration, stream.time_base)
        if announced is None and len(container.streams) == 1 and container.duration:
            announced = container.duration / av.time_base
        try:
            end, decoded = _scan(container, stream, full=announced is None)
            time_base = stream.time_base
            if announced is not None and time_base is not None and announced > _TAIL_SECONDS:
                # Only the end matters for truncation and length: seek there instead of
                # reading gigabytes of packets. A seek the file cannot honour is damage.
                container.seek(
                    int((announced - _TAIL_SECONDS) / time_base),
                    stream=stream,
                    backward=True,
                )
                end = max(end, _scan(container, stream, full=True, decode=0)[0])
            elif announced is not None:
                end = max(end, _scan(container, stream, full=True, decode=0)[0])
        except av.error.FFmpegError:
            raise MediaUnreadable(
                "The audio in the file is damaged and could not be decoded."
            ) from None
        if decoded == 0 or end <= 0:
            raise MediaUnreadable("The file's audio track is empty.")
        if announced and end < announced * (1 - _TRUNCATION_SLACK) - _TRUNCATION_MIN_SECONDS:
            raise MediaUnreadable(
                f"The file seems truncated: it announces {_human(announced)} of audio but "
                f"only {_human(end)} is present. Upload the complete file."
            )
        if end > max_duration_seconds:
            raise PayloadTooLarge(
                f"The recording is {_human(end)} long; the longest accepted is "
                f"{_human(max_duration_seconds)}."
            )
        name = container.format.name.split(",")[0]
        return MediaInfo(
            container=_CONTAINER_NAMES.get(name, name)[:50],
            codec=(context.codec.canonical_name or context.name or "unknown")[:50],
            channels=context.channels or 0,
            sample_rate=context.sample_rate or 0,
            duration_seconds=end,
        )


_MEDIA_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "mp4": "audio/mp4",
    "matroska": "video/x-matroska",
}
_SUFFIX_MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".weba": "audio/webm",
    ".mka": "audio/x-matroska",
    ".opus": "audio/ogg",
}


def media_type_for(container: str, file_name: str) -> str:
    """The Content-Type to serve a recording with, decided by its container.

    The file name only refines a container shared by several kinds (MP4 audio or video,
    Matroska or WebM); it never makes a file something it is not.
    """
    suffix = Path(file_name).suffix.lower()
    if container in ("mp4", "matroska", "ogg") and suffix in _SUFFIX_MEDIA_TYPES:
        return _SUFFIX_MEDIA_TYPES[suffix]
    return _MEDIA_TYPES.get(container, "application/octet-stream")
