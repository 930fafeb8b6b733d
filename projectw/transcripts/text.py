"""Text and time helpers every renderer shares, so all formats agree on them."""

from __future__ import annotations

from projectw.transcripts.model import Segment

LANGUAGES_WITHOUT_SPACES = frozenset({"ja", "zh", "yue"})
"""Languages whose words are written without spaces between them (WhisperX knows ja and zh)."""


def to_ms(seconds: float) -> int:
    """Seconds → integer milliseconds, rounded the way WhisperX rounds them."""
    return round(seconds * 1000)


def uses_spaces(language: str | None) -> bool:
    """Whether words of ``language`` (``zh``, ``zh-TW``, ``ja_JP``…) are separated by spaces."""
    if not language:
        return True
    base = language.replace("_", "-").split("-")[0].lower()
    return base not in LANGUAGES_WITHOUT_SPACES


def one_line(text: str) -> str:
    """Collapse every run of whitespace, line breaks included, into one space."""
    return " ".join(text.split())


def word_separator(language: str | None) -> str:
    """What stands between two words of ``language``: a space, or nothing."""
    return " " if uses_spaces(language) else ""


def segment_text(segment: Segment, language: str | None) -> str:
    """The segment's text on one line; its words joined when the text itself is blank."""
    text = one_line(segment.text)
    if text:
        return text
    words = (one_line(word.word) for word in segment.words)
    return word_separator(language).join(word for word in words if word)


def speaker_prefix(segment: Segment, enabled: bool) -> str:
    """``[SPEAKER_00]: `` for a segment whose speaker is known, else the empty string."""
    speaker = one_line(segment.speaker or "")
    if not enabled or not speaker:
        return ""
    return f"[{speaker}]: "
