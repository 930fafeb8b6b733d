"""Convert between the canonical transcript and WhisperX's result JSON (0.6's ``as_json``).

WhisperX writes ``{"segments": [{start, end, text, speaker?, words: [{word, start?, end?,
score?, speaker?}]}], "word_segments": [...], "language": ...}``. A word the aligner could not
place has no ``start``/``end``/``score``; pandas-based steps may leave NaN for those instead, which
is read as missing. Anything else that is not what WhisperX writes is refused with a sentence
naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from projectw.errors import InvalidInput
from projectw.transcripts.model import EngineInfo, Segment, Transcript, Word
from projectw.transcripts.text import one_line, word_separator

MAX_SECONDS = 10_000_000.0
"""About four months; a later time is a broken result, not a recording."""


def from_whisperx(data: dict[str, Any]) -> Transcript:
    """The canonical transcript of a WhisperX / Project-W 0.6 result; raises InvalidInput."""
    if not isinstance(data, Mapping):
        raise InvalidInput("The WhisperX result must be a JSON object.")
    language = _optional_text(data.get("language"), "language") or None
    segments = data.get("segments")
    if segments is None:
        segments = []
    if not isinstance(segments, list):
        raise InvalidInput("The WhisperX result's segments must be a list.")
    converted: list[Segment] = []
    for index, raw in enumerate(segments):
        previous_end = converted[-1].end if converted else 0.0
        converted.append(_segment(raw, f"segments[{index}]", language, previous_end))
    return Transcript(language=language, segments=converted, engine=EngineInfo(name="whisperx"))


def to_whisperx(transcript: Transcript) -> dict[str, Any]:
    """The WhisperX result shape of ``transcript``, for consumers of Project-W 0.6's JSON.

    Like WhisperX, optional word fields are left out rather than set to null, since its readers
    test ``"start" in word``.
    """
    segments: list[dict[str, Any]] = []
    word_segments: list[dict[str, Any]] = []
    for segment in transcript.segments:
        words = [_whisperx_word(word) for word in segment.words]
        entry: dict[str, Any] = {
            "start": segment.start,
            "end": segment.end,
            "text": segment.text,
            "words": words,
        }
        if segment.speaker is not None:
            entry["speaker"] = segment.speaker
        segments.append(entry)
        word_segments.extend(words)
    return {"segments": segments, "word_segments": word_segments, "language": transcript.language}


def _whisperx_word(word: Word) -> dict[str, Any]:
    entry: dict[str, Any] = {"word": word.word}
    if word.start is not None:
        entry["start"] = word.start
    if word.end is not None:
        entry["end"] = word.end
    if word.probability is not None:
        entry["score"] = word.probability
    if word.speaker is not None:
        entry["speaker"] = word.speaker
    return entry


def _segment(raw: object, where: str, language: str | None, previous_end: float) -> Segment:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"The WhisperX result's {where} must be an object.")
    raw_words = raw.get("words")
    if raw_words is None:
        raw_words = []
    if not isinstance(raw_words, list):
        raise InvalidInput(f"The WhisperX result's {where}.words must be a list.")
    words = [_word(word, f"{where}.words[{n}]") for n, word in enumerate(raw_words)]
    starts = [word.start for word in words if word.start is not None]
    ends = [word.end for word in words if word.end is not None]
    # A segment without times borrows them from its words, else follows the one before it.
    start = _time(raw.get("start"), f"{where}.start")
    if start is None:
        start = min(starts) if starts else previous_end
    end = _time(raw.get("end"), f"{where}.end")
    if end is None:
        end = max(ends) if ends else start
    text = _optional_text(raw.get("text"), f"{where}.text")
    if text is None:
        text = word_separator(language).join(one_line(word.word) for word in words)
    return Segment(
        start=start,
        # Aligners occasionally end a segment a hair before it starts; keep its text anyway.
        end=max(end, start),
        text=text,
        speaker=_speaker(raw.get("speaker"), f"{where}.speaker"),
        words=words,
    )


def _word(raw: object, where: str) -> Word:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"The WhisperX result's {where} must be an object.")
    text = raw.get("word")
    if not isinstance(text, str):
        raise InvalidInput(f"The WhisperX result's {where}.word must be a string.")
    start = _time(raw.get("start"), f"{where}.start")
    end = _time(raw.get("end"), f"{where}.end")
    if start is not None and end is not None and end < start:
        end = start
    score = _number(raw.get("score"), f"{where}.score")
    if score is not None and not 0 <= score <= 1:
        raise InvalidInput(f"The WhisperX result's {where}.score must be between 0 and 1.")
    return Word(
        word=text,
        start=start,
        end=end,
        probability=score,
        speaker=_speaker(raw.get("speaker"), f"{where}.speaker"),
    )


def _time(value: object, where: str) -> float | None:
    seconds = _number(value, where)
    if seconds is not None and not 0 <= seconds <= MAX_SECONDS:
        raise InvalidInput(
            f"The WhisperX result's {where} must be between 0 and {MAX_SECONDS:.0f} seconds."
        )
    return seconds


def _number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"The WhisperX result's {where} must be a number.")
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise InvalidInput(f"The WhisperX result's {where} must be a finite number.")
    return float(value)


def _optional_text(value: object, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(f"The WhisperX result's {where} must be a string.")


def _speaker(value: object, where: str) -> str | None:
    # pyannote names speakers SPEAKER_00…; other diarizers may number them.
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value or None
    raise InvalidInput(f"The WhisperX result's {where} must be a string.")
