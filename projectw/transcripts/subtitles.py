"""SubRip (srt) and WebVTT (vtt) renderers."""

from __future__ import annotations

from projectw.transcripts.cues import layout
from projectw.transcripts.model import Transcript
from projectw.transcripts.options import RenderOptions


def timestamp(ms: int, decimal_marker: str) -> str:
    """``HH:MM:SS<marker>mmm``; hours grow past two digits rather than wrap."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal_marker}{millis:03d}"


def render_srt(transcript: Transcript, options: RenderOptions) -> str:
    """Numbered cues with ``HH:MM:SS,mmm`` times, each followed by a blank line."""
    blocks = []
    for number, cue in enumerate(layout(transcript, options), start=1):
        start, end = timestamp(cue.start, ","), timestamp(cue.end, ",")
        blocks.append(f"{number}\n{start} --> {end}\n{cue.text(_srt_escape)}\n\n")
    return "".join(blocks)


def render_vtt(transcript: Transcript, options: RenderOptions) -> str:
    """A ``WEBVTT`` header, then cues with ``HH:MM:SS.mmm`` times, each followed by a blank line."""
    blocks = ["WEBVTT\n\n"]
    for cue in layout(transcript, options):
        start, end = timestamp(cue.start, "."), timestamp(cue.end, ".")
        blocks.append(f"{start} --> {end}\n{cue.text(_vtt_escape)}\n\n")
    return "".join(blocks)


def _srt_escape(text: str) -> str:
    # SubRip has no escapes; an arrow in the text would read as a timing line.
    return text.replace("-->", "->")


def _vtt_escape(text: str) -> str:
    # WebVTT cue text is markup: these three must be character references (WebVTT §4.2.2).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
