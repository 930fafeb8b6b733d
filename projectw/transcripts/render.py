"""Render the canonical transcript into a download format, on request.

Output follows WhisperX's writers, which Project-W 0.6 users got: txt has one segment per line;
tsv has a ``start\\tend\\ttext`` header and times in integer milliseconds; srt and vtt are
described in `subtitles`; json is the canonical document itself. Segments without text are left
out of every format but json.
"""

from __future__ import annotations

from collections.abc import Callable

from projectw.transcripts.model import Transcript
from projectw.transcripts.options import FORMATS, Format, RenderOptions, check_format
from projectw.transcripts.subtitles import render_srt, render_vtt
from projectw.transcripts.text import segment_text, speaker_prefix, to_ms

__all__ = ["FORMATS", "Format", "RenderOptions", "render"]


def render(transcript: Transcript, fmt: Format, options: RenderOptions | None = None) -> str:
    """``transcript`` in format ``fmt``; raises InvalidInput for an unknown format.

    Pure and CPU-bound (a three-hour transcript with highlighted words takes seconds): call it
    from a worker thread, not on the event loop, when the transcript may be long.
    """
    return _RENDERERS[check_format(fmt)](transcript, options or RenderOptions())


def render_txt(transcript: Transcript, options: RenderOptions) -> str:
    """One segment per line, with the speaker label in front when asked for."""
    lines = []
    for segment in transcript.segments:
        text = segment_text(segment, transcript.language)
        if text:
            lines.append(f"{speaker_prefix(segment, options.speaker_labels)}{text}\n")
    return "".join(lines)


def render_tsv(transcript: Transcript, options: RenderOptions) -> str:
    """A header, then ``start\\tend\\ttext`` per segment with times in integer milliseconds."""
    rows = ["start\tend\ttext\n"]
    for segment in transcript.segments:
        # segment_text is on one line already; tabs are whitespace, so none are left either.
        text = segment_text(segment, transcript.language)
        if text:
            start = to_ms(segment.start)
            end = max(to_ms(segment.end), start)
            prefix = speaker_prefix(segment, options.speaker_labels)
            rows.append(f"{start}\t{end}\t{prefix}{text}\n")
    return "".join(rows)


def render_json(transcript: Transcript, options: RenderOptions) -> str:  # noqa: ARG001
    """The canonical document, UTF-8 and compact; options do not apply."""
    return transcript.model_dump_json()


_RENDERERS: dict[str, Callable[[Transcript, RenderOptions], str]] = {
    "txt": render_txt,
    "srt": render_srt,
    "vtt": render_vtt,
    "tsv": render_tsv,
    "json": render_json,
}
