"""Random transcripts → srt/vtt → ffmpeg: what comes back is what the transcript says.

Expected cue times are worked out here from the transcript alone (milliseconds are the seconds
rounded, as in WhisperX), and the files are read by ffprobe, so neither side trusts the renderer.
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projectw.transcripts.model import Segment, Transcript, Word
from projectw.transcripts.render import Format, RenderOptions, render

from .ffmpeg_subtitles import ParsedCue, read_cues

# Each example runs ffprobe; no deadline, because subprocess time says nothing about correctness.
# The autouse environment fixture does not depend on the example, so sharing it is fine.
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Printable, no whitespace. Markup characters are left out: no word can then hold "-->" or
# "<u>"; their escaping has its own tests. "#" is kept for unique() below.
WORD_TEXT = st.text(
    st.characters(categories=("L", "N", "P", "S"), exclude_characters="<>#"),
    min_size=1,
    max_size=9,
)
SPEAKER = st.sampled_from([None, "SPEAKER_00", "SPEAKER_01", "Anna & Bob"])
# Start near zero, just before 100 minutes, just before 100 hours, or hundreds of hours in.
BASE = st.sampled_from([0.0, 5990.0, 359_990.0, 1_800_000.0])
SECONDS = st.floats(min_value=0, max_value=4, allow_nan=False, allow_infinity=False)


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def unique(text: str, number: int) -> str:
    # ffmpeg drops a cue that repeats the one before it exactly (time and text); distinct words
    # keep every cue of these tests distinct.
    return f"{text}#{number}"


@st.composite
def timed_transcripts(draw: st.DrawFn) -> Transcript:
    """Words with non-overlapping times; each segment spans its words, as after alignment."""
    now = draw(BASE)
    segments = []
    count = 0
    for _ in range(draw(st.integers(0, 4))):
        words: list[Word] = []
        for _ in range(draw(st.integers(1, 8))):
            start = now + draw(SECONDS)
            now = start + draw(SECONDS)
            words.append(Word(word=unique(draw(WORD_TEXT), count), start=start, end=now))
            count += 1
        segments.append(
            Segment(
                start=words[0].start or 0,
                end=now,
                text=" ".join(word.word for word in words),
                speaker=draw(SPEAKER),
                words=words,
            )
        )
    return Transcript(language="en", segments=segments)


@st.composite
def segment_transcripts(draw: st.DrawFn) -> Transcript:
    """Segments with any times (even ending before they start) and messy whitespace."""
    base = draw(BASE)
    segments = []
    for _ in range(draw(st.integers(0, 6))):
        pieces = draw(st.lists(WORD_TEXT, max_size=6))
        if pieces:
            pieces.append(unique("", len(segments)))
        spacing = draw(st.sampled_from([" ", "  ", "\n", " \t"]))
        segments.append(
            Segment(
                start=base + draw(SECONDS) * 10,
                end=base + draw(SECONDS) * 10,
                text=spacing + spacing.join(pieces),
                speaker=draw(SPEAKER),
            )
        )
    return Transcript(language="en", segments=segments)


def round_trip(transcript: Transcript, fmt: Format, options: RenderOptions) -> list[ParsedCue]:
    rendered = render(transcript, fmt, options)
    if fmt == "srt" and not rendered:
        return []  # ffprobe refuses an empty file; there is nothing in it to check.
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"out.{fmt}"
        path.write_text(rendered, encoding="utf-8")
        return read_cues(path)


def plain(payload: str, fmt: Format) -> str:
    text = payload.replace("<u>", "").replace("</u>", "")
    return html.unescape(text) if fmt == "vtt" else text


def label(segment: Segment, options: RenderOptions) -> str:
    return f"[{segment.speaker}]: " if segment.speaker and options.speaker_labels else ""


@dataclass
class Placed:
    """A parsed cue and the words of the transcript it shows."""

    cue: ParsedCue
    segment: Segment
    words: list[Word]
    lines: list[str]


def place(
    cues: list[ParsedCue], transcript: Transcript, fmt: Format, options: RenderOptions
) -> list[Placed]:
    """Walk the cues in order, matching each to the next words of the transcript."""
    queue = [(segment, word) for segment in transcript.segments for word in segment.words]
    placed = []
    position = 0
    for cue in cues:
        segment = queue[position][0]
        text = plain(cue.payload, fmt)
        prefix = label(segment, options)
        assert text.startswith(prefix)
        tokens = text[len(prefix) :].split()
        words = [word for _, word in queue[position : position + len(tokens)]]
        assert tokens == [word.word for word in words]
        assert all(owner is segment for owner, _ in queue[position : position + len(tokens)])
        placed.append(Placed(cue, segment, words, text.split("\n")))
        position += len(tokens)
    assert position == len(queue), "every word is shown exactly once"
    return placed


@PROPERTY_SETTINGS
@given(
    transcript=segment_transcripts(),
    fmt=st.sampled_from(["srt", "vtt"]),
    speaker_labels=st.booleans(),
)
def test_each_segment_is_one_cue_at_its_own_times(
    transcript: Transcript, fmt: Format, speaker_labels: bool
) -> None:
    options = RenderOptions(speaker_labels=speaker_labels)
    expected = [
        ParsedCue(
            ms(segment.start),
            max(ms(segment.end), ms(segment.start)),
            label(segment, options) + " ".join(segment.text.split()),
        )
        for segment in transcript.segments
        if segment.text.split()
    ]
    cues = round_trip(transcript, fmt, options)
    decoded = [ParsedCue(cue.start, cue.end, plain(cue.payload, fmt)) for cue in cues]
    assert decoded == sorted(expected, key=lambda cue: cue.start)


@PROPERTY_SETTINGS
@given(
    transcript=timed_transcripts(),
    fmt=st.sampled_from(["srt", "vtt"]),
    width=st.integers(1, 40),
    count=st.none() | st.integers(1, 3),
    speaker_labels=st.booleans(),
)
def test_split_cues_start_and_end_at_their_words_and_respect_the_limits(
    transcript: Transcript, fmt: Format, width: int, count: int | None, speaker_labels: bool
) -> None:
    options = RenderOptions(
        max_line_width=width, max_line_count=count, speaker_labels=speaker_labels
    )
    placed = place(round_trip(transcript, fmt, options), transcript, fmt, options)
    previous_end = 0
    for item in placed:
        first, last = item.words[0], item.words[-1]
        assert item.cue.start == ms(first.start or 0)
        assert item.cue.end == ms(last.end or 0)
        assert item.cue.start >= previous_end
        previous_end = item.cue.end
        for line in item.lines:
            assert (
                len(line) <= width
                or len(line.removeprefix(label(item.segment, options)).split()) == 1
            )
        if count is not None:
            assert len(item.lines) <= count
            gaps = [
                ms(b.start or 0) - ms(a.end or 0)
                for a, b in zip(item.words, item.words[1:], strict=False)
            ]
            assert all(gap <= 3000 for gap in gaps), "a long pause ends a cue"
        else:
            assert item.segment.words[0] is first and item.segment.words[-1] is last


@PROPERTY_SETTINGS
@given(
    transcript=timed_transcripts(),
    fmt=st.sampled_from(["srt", "vtt"]),
    width=st.none() | st.integers(1, 40),
)
def test_highlighted_cues_underline_each_word_at_its_own_times(
    transcript: Transcript, fmt: Format, width: int | None
) -> None:
    options = RenderOptions(max_line_width=width, highlight_words=True)
    cues = round_trip(transcript, fmt, options)
    underlined = [cue for cue in cues if "<u>" in cue.payload]
    spoken = [
        word
        for segment in transcript.segments
        for word in segment.words
        if ms(word.end or 0) > ms(word.start or 0)
    ]
    assert len(underlined) == len(spoken)
    for cue, word in zip(underlined, spoken, strict=True):
        assert (cue.start, cue.end) == (ms(word.start or 0), ms(word.end or 0))
        assert cue.payload.count("<u>") == 1
        shown = cue.payload.split("<u>")[1].split("</u>")[0]
        assert (html.unescape(shown) if fmt == "vtt" else shown) == word.word
    for before, after in zip(cues, cues[1:], strict=False):
        assert before.end <= after.start
