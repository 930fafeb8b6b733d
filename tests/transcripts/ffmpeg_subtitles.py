"""Read subtitle files back with ffmpeg, a SubRip/WebVTT parser independent of ours."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class ParsedCue:
    """One subtitle packet as ffmpeg's demuxer cut it out of the file."""

    start: int
    """Milliseconds."""
    end: int
    """Milliseconds."""
    payload: str
    """The cue text exactly as it stands in the file (markup and escapes included)."""


def read_cues(path: Path) -> list[ParsedCue]:
    """Every cue of a .srt or .vtt file with its times, read by ffprobe."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_packets", "-show_data", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    cues = []
    for packet in json.loads(result.stdout).get("packets", []):
        start = _ms(packet["pts_time"])
        # ffprobe leaves out the duration of a zero-length cue.
        duration = _ms(packet["duration_time"]) if "duration_time" in packet else 0
        cues.append(ParsedCue(start, start + duration, _hexdump_bytes(packet["data"]).decode()))
    return cues


def decoded_texts(path: Path) -> list[str]:
    """The plain text of every cue after ffmpeg's subtitle decoder (markup and escapes resolved).

    ffmpeg converts the file to SubRip with its ``text`` encoder, which drops all styling.
    """
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-c:s", "text", "-f", "srt", "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    blocks = [block for block in result.stdout.replace("\r\n", "\n").split("\n\n") if block]
    # Each block: the cue number, the timing line, then the text lines.
    return ["\n".join(block.split("\n")[2:]) for block in blocks]


def _ms(seconds: str) -> int:
    millis = Decimal(seconds) * 1000
    assert millis == millis.to_integral_value(), f"{seconds} is not a whole millisecond"
    return int(millis)


def _hexdump_bytes(dump: str) -> bytes:
    # Lines look like "00000000: 4865 6c6c 6f20 ...  Hello ..."; the hex columns are 39 wide.
    data = bytearray()
    for line in dump.strip("\n").split("\n"):
        hex_columns = line.split(": ", 1)[1][:39]
        data += bytes.fromhex(hex_columns.replace(" ", ""))
    return bytes(data)
