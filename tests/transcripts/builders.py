"""Small constructors for transcripts in tests."""

from __future__ import annotations

from projectw.transcripts.model import Segment, Transcript, Word


def timed_words(spec: str) -> list[Word]:
    """Words from ``"Hello@0.5-0.9 there@1.0-1.3 um"``: ``word@start-end``, untimed without @."""
    words = []
    for item in spec.split():
        if "@" in item:
            text, times = item.split("@")
            start, end = times.split("-")
            words.append(Word(word=text, start=float(start), end=float(end)))
        else:
            words.append(Word(word=item))
    return words


def segment(
    start: float, end: float, text: str, words: str = "", speaker: str | None = None
) -> Segment:
    return Segment(start=start, end=end, text=text, words=timed_words(words), speaker=speaker)


def transcript(*segments: Segment, language: str | None = "en") -> Transcript:
    return Transcript(language=language, segments=list(segments))
