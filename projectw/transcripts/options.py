"""The download formats and the options that shape how a transcript is rendered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from projectw.errors import InvalidInput

Format = Literal["txt", "srt", "vtt", "tsv", "json"]

FORMATS: dict[str, tuple[str, str]] = {
    "txt": ("txt", "text/plain; charset=utf-8"),
    "srt": ("srt", "application/x-subrip; charset=utf-8"),
    "vtt": ("vtt", "text/vtt; charset=utf-8"),
    "tsv": ("tsv", "text/tab-separated-values; charset=utf-8"),
    "json": ("json", "application/json; charset=utf-8"),
}
"""Format name → (file extension, media type of the download)."""


@dataclass(frozen=True)
class RenderOptions:
    """How to lay out a rendered transcript.

    The layout options (``max_line_width``, ``max_line_count``, ``highlight_words``) shape the
    subtitle formats srt and vtt; the other formats ignore them, as WhisperX does when it
    writes every format with one set of options, so a job's subtitle settings never stop a
    plain-text download. ``speaker_labels`` prefixes ``[SPEAKER_00]: `` in txt, tsv, srt and vtt
    when the transcript knows the speaker; json always carries speakers as fields.
    """

    max_line_width: int | None = None
    """Characters per subtitle line, the speaker label included; a longer word gets its own line."""
    max_line_count: int | None = None
    """Lines per subtitle cue; a segment that needs more lines is split into several cues."""
    highlight_words: bool = False
    """One cue per timed word with that word underlined (``<u>…</u>``), as WhisperX does."""
    speaker_labels: bool = True
    """Prefix each line or cue with ``[SPEAKER_00]: `` when the speaker is known."""

    def __post_init__(self) -> None:
        _check_positive("max_line_width", self.max_line_width)
        _check_positive("max_line_count", self.max_line_count)
        for name in ("highlight_words", "speaker_labels"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInput(f"{name} must be true or false.")
        if self.max_line_count is not None and self.max_line_width is None:
            raise InvalidInput("max_line_count needs max_line_width to be set as well.")


def check_format(fmt: str) -> Format:
    """Return ``fmt`` as a known format name or raise InvalidInput."""
    if fmt not in FORMATS:
        raise InvalidInput(
            f"Unknown transcript format {fmt!r}; choose one of {', '.join(FORMATS)}."
        )
    return cast(Format, fmt)


def _check_positive(name: str, value: object) -> None:
    # bool is an int subclass; True must not pass as a width of 1.
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput(f"{name} must be a whole number of at least 1.")
