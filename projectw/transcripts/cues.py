"""Subtitle cues: each segment of a transcript cut into timed blocks of lines.

A cue never spans two segments, so its speaker label is always right. Without layout options a
segment is one cue with the segment's own text and times. With ``max_line_width`` the segment's
words are filled greedily into lines; with ``max_line_count`` too, every ``max_line_count`` lines
start a new cue, and so does a silence of more than three seconds between timed words. Cue times
come from the word timings; words without timings get times shared out in proportion to their
length between the nearest known times (the segment's bounds when no word is timed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from projectw.transcripts.model import Segment, Transcript
from projectw.transcripts.options import RenderOptions
from projectw.transcripts.text import (
    one_line,
    segment_text,
    speaker_prefix,
    to_ms,
    uses_spaces,
)

LONG_PAUSE_MS = 3000
"""A silence longer than this between two words starts a new cue when cues are split by count."""


@dataclass(frozen=True)
class Token:
    """A word (or, without word timings, a piece of the text) with its place in time, in ms."""

    text: str
    separator: str
    """What stands between this token and the one before it on the same line."""
    start: int
    end: int
    timed: bool
    """Whether ``start``/``end`` are the engine's word timing rather than an estimate."""


@dataclass(frozen=True)
class Cue:
    """One subtitle: times in milliseconds, a speaker prefix and lines of tokens."""

    start: int
    end: int
    prefix: str
    lines: tuple[tuple[Token, ...], ...]
    highlight: int | None = None
    """Index (over all tokens of the cue) of the word to underline."""

    def text(self, escape: Callable[[str], str]) -> str:
        """The cue's text with ``escape`` applied to the transcript's words and label."""
        rendered: list[str] = []
        index = 0
        for line in self.lines:
            pieces: list[str] = []
            for position, token in enumerate(line):
                word = escape(token.text)
                if index == self.highlight:
                    word = f"<u>{word}</u>"
                pieces.append(word if position == 0 else token.separator + word)
                index += 1
            rendered.append("".join(pieces))
        if rendered:
            rendered[0] = escape(self.prefix) + rendered[0]
        return "\n".join(rendered)


def layout(transcript: Transcript, options: RenderOptions) -> Iterator[Cue]:
    """Every cue of ``transcript`` in order; segments without text give none."""
    for segment in transcript.segments:
        yield from _segment_cues(segment, transcript.language, options)


def _segment_cues(segment: Segment, language: str | None, options: RenderOptions) -> Iterator[Cue]:
    start = to_ms(segment.start)
    end = max(to_ms(segment.end), start)
    prefix = speaker_prefix(segment, options.speaker_labels)
    text = segment_text(segment, language)
    if not text:
        return
    if options.max_line_width is None and not options.highlight_words:
        whole = Token(text, "", start, end, timed=False)
        yield Cue(start, end, prefix, ((whole,),))
        return
    tokens = _place(_tokens(segment, language, start, end), start, end)
    blocks = _split_at_pauses(tokens) if options.max_line_count is not None else [tokens]
    previous_end = start
    for block in blocks:
        for lines in _fill(block, options.max_line_width, options.max_line_count, len(prefix)):
            # Engines sometimes let a word overlap the next; cues must still follow each other.
            cue_start = max(lines[0][0].start, previous_end)
            cue_end = max(lines[-1][-1].end, cue_start)
            cue = Cue(cue_start, cue_end, prefix, lines)
            yield from _highlighted(cue) if options.highlight_words else (cue,)
            previous_end = cue_end


def _tokens(segment: Segment, language: str | None, start: int, end: int) -> list[Token]:
    """The segment's words clamped into its bounds, or its text cut into untimed pieces."""
    separator = " " if uses_spaces(language) else ""
    tokens: list[Token] = []
    for word in segment.words:
        text = one_line(word.word)
        if not text:
            continue
        if word.start is not None and word.end is not None:
            word_start = min(max(to_ms(word.start), start), end)
            word_end = min(max(to_ms(word.end), word_start), end)
            tokens.append(Token(text, separator, word_start, word_end, timed=True))
        else:
            tokens.append(Token(text, separator, start, start, timed=False))
    if tokens:
        return tokens
    for chunk in segment_text(segment, language).split(" "):
        if separator:
            tokens.append(Token(chunk, " ", start, start, timed=False))
        else:
            # Without spaces any character may end a line, as in CJK subtitles.
            tokens.extend(
                Token(char, " " if n == 0 else "", start, start, timed=False)
                for n, char in enumerate(chunk)
            )
    return tokens


def _place(tokens: list[Token], start: int, end: int) -> list[Token]:
    """Give untimed tokens times in proportion to their length between their timed neighbours."""
    placed = list(tokens)
    index = 0
    while index < len(placed):
        if placed[index].timed:
            index += 1
            continue
        run_end = index
        while run_end < len(placed) and not placed[run_end].timed:
            run_end += 1
        low = placed[index - 1].end if index > 0 else start
        high = placed[run_end].start if run_end < len(placed) else end
        high = max(high, low)
        weights = [len(token.text) for token in placed[index:run_end]]
        total = sum(weights)
        done = 0
        for offset, weight in enumerate(weights):
            token_start = low + round((high - low) * done / total)
            done += weight
            token_end = low + round((high - low) * done / total)
            token = placed[index + offset]
            placed[index + offset] = replace(token, start=token_start, end=token_end)
        index = run_end
    return placed


def _split_at_pauses(tokens: list[Token]) -> list[list[Token]]:
    blocks: list[list[Token]] = [[]]
    last_timed_end: int | None = None
    for token in tokens:
        if token.timed:
            if last_timed_end is not None and token.start - last_timed_end > LONG_PAUSE_MS:
                blocks.append([])
            last_timed_end = token.end
        blocks[-1].append(token)
    return [block for block in blocks if block]


def _fill(
    tokens: list[Token], width: int | None, count: int | None, prefix_width: int
) -> Iterator[tuple[tuple[Token, ...], ...]]:
    """Fill tokens greedily into lines of at most ``width`` and group them ``count`` to a cue.

    The speaker prefix takes room on the first line of every cue. A token longer than a line
    gets a line of its own rather than being cut.
    """
    cue: list[tuple[Token, ...]] = []
    line: list[Token] = []
    used = prefix_width
    for token in tokens:
        if line and (width is None or used + len(token.separator) + len(token.text) <= width):
            line.append(token)
            used += len(token.separator) + len(token.text)
            continue
        if line:
            cue.append(tuple(line))
            if count is not None and len(cue) == count:
                yield tuple(cue)
                cue = []
        line = [token]
        used = (prefix_width if not cue else 0) + len(token.text)
    if line:
        cue.append(tuple(line))
    if cue:
        yield tuple(cue)


def _highlighted(cue: Cue) -> Iterator[Cue]:
    """The cue once per timed word with that word underlined, plain while no word is spoken."""
    tokens = [token for line in cue.lines for token in line]
    emitted = False
    last = cue.start
    for index, token in enumerate(tokens):
        if not token.timed:
            continue
        word_start = max(token.start, last)
        word_end = min(token.end, cue.end)
        if word_end <= word_start:
            continue
        if word_start > last:
            yield replace(cue, start=last, end=word_start)
        yield replace(cue, start=word_start, end=word_end, highlight=index)
        emitted = True
        last = word_end
    if not emitted:
        yield cue
    elif last < cue.end:
        yield replace(cue, start=last, end=cue.end)
