"""Reading WhisperX / Project-W 0.6 result JSON into the canonical transcript, and back."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from projectw.errors import InvalidInput
from projectw.transcripts.model import Segment, Transcript, Word
from projectw.transcripts.render import render
from projectw.transcripts.whisperx_json import from_whisperx, to_whisperx


def aligned_result() -> dict[str, Any]:
    """A result as WhisperX writes it after alignment and diarization."""
    words = [
        {"word": "It", "start": 0.51, "end": 0.62, "score": 0.91, "speaker": "SPEAKER_00"},
        {"word": "costs", "start": 0.7, "end": 1.02, "score": 0.88, "speaker": "SPEAKER_00"},
        # The aligner cannot place digits: WhisperX leaves their times and score out.
        {"word": "42", "speaker": "SPEAKER_00"},
        {"word": "euros.", "start": 1.9, "end": 2.3, "score": 0.75, "speaker": "SPEAKER_00"},
    ]
    return {
        "segments": [
            {
                "start": 0.51,
                "end": 2.3,
                "text": " It costs 42 euros.",
                "speaker": "SPEAKER_00",
                "words": words,
                "chars": [{"char": "I", "start": 0.51, "end": 0.55, "score": 0.9}],
                "avg_logprob": -0.2,
            },
            {"start": 2.8, "end": 3.5, "text": " Okay.", "words": []},
        ],
        "word_segments": words,
        "language": "en",
    }


def test_an_aligned_diarized_result_becomes_the_canonical_transcript() -> None:
    t = from_whisperx(aligned_result())
    assert t.language == "en"
    assert t.engine is not None and t.engine.name == "whisperx"
    first, second = t.segments
    assert (first.start, first.end, first.text, first.speaker) == (
        0.51,
        2.3,
        " It costs 42 euros.",
        "SPEAKER_00",
    )
    assert first.words[0] == Word(
        word="It", start=0.51, end=0.62, probability=0.91, speaker="SPEAKER_00"
    )
    assert first.words[2] == Word(word="42", speaker="SPEAKER_00")
    assert second == Segment(start=2.8, end=3.5, text=" Okay.")
    assert render(t, "txt") == "[SPEAKER_00]: It costs 42 euros.\nOkay.\n"


def test_a_project_w_0_6_transcript_read_from_json_text() -> None:
    # Project-W 0.6 stored the result as JSON text; NaN is what pandas leaves for a missing score.
    stored = json.dumps(aligned_result()).replace('"score": 0.75', '"score": NaN')
    t = from_whisperx(json.loads(stored))
    assert t.segments[0].words[3].probability is None


def test_missing_and_null_fields_are_tolerated() -> None:
    t = from_whisperx(
        {
            "segments": [
                {"start": 1.0, "end": None, "text": "No end.", "words": None},
                {"text": None, "words": [{"word": "Hi", "start": 3, "end": 3.5}, {"word": "x"}]},
                {"text": "Nothing known."},
            ]
        }
    )
    assert t.language is None
    no_end, from_words, unknown = t.segments
    assert (no_end.start, no_end.end, no_end.words) == (1.0, 1.0, [])
    assert (from_words.start, from_words.end, from_words.text) == (3.0, 3.5, "Hi x")
    # Nothing to go by: the segment follows the one before it.
    assert (unknown.start, unknown.end) == (3.5, 3.5)
    assert from_whisperx({}) == Transcript(engine=t.engine)
    assert from_whisperx({"segments": None, "language": ""}).language is None


def test_words_of_languages_without_spaces_are_joined_without_them() -> None:
    words = [{"word": "你好"}, {"word": "吗"}]
    t = from_whisperx({"language": "zh", "segments": [{"words": words}]})
    assert t.segments[0].text == "你好吗"


def test_small_inconsistencies_are_repaired_not_refused() -> None:
    t = from_whisperx(
        {
            "segments": [
                {
                    "start": 2.0,
                    "end": 1.9,
                    "text": "x",
                    "speaker": 1,
                    "words": [{"word": "x", "start": 2.0, "end": 1.99}],
                }
            ]
        }
    )
    segment = t.segments[0]
    assert (segment.start, segment.end, segment.speaker) == (2.0, 2.0, "1")
    assert (segment.words[0].start, segment.words[0].end) == (2.0, 2.0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "The WhisperX result must be a JSON object."),
        ({"segments": {"0": {}}}, "The WhisperX result's segments must be a list."),
        ({"segments": ["text"]}, "The WhisperX result's segments[0] must be an object."),
        (
            {"segments": [{"start": "0.5", "end": 1, "text": "x"}]},
            "The WhisperX result's segments[0].start must be a number.",
        ),
        (
            {"segments": [{"start": -1, "end": 1, "text": "x"}]},
            "The WhisperX result's segments[0].start must be between 0 and 10000000 seconds.",
        ),
        (
            {"segments": [{"start": 0, "end": math.inf, "text": "x"}]},
            "The WhisperX result's segments[0].end must be a finite number.",
        ),
        (
            {"segments": [{"start": 0, "end": 1e300, "text": "x"}]},
            "The WhisperX result's segments[0].end must be between 0 and 10000000 seconds.",
        ),
        (
            {"segments": [{"start": True, "end": 1, "text": "x"}]},
            "The WhisperX result's segments[0].start must be a number.",
        ),
        (
            {"segments": [{"start": 0, "end": 1, "text": 5}]},
            "The WhisperX result's segments[0].text must be a string.",
        ),
        (
            {"segments": [{"start": 0, "end": 1, "text": "x", "words": "x"}]},
            "The WhisperX result's segments[0].words must be a list.",
        ),
        (
            {"segments": [{"text": "x", "words": [{"start": 0}]}]},
            "The WhisperX result's segments[0].words[0].word must be a string.",
        ),
        (
            {"segments": [{"text": "x", "words": [{"word": "x", "score": 1.5}]}]},
            "The WhisperX result's segments[0].words[0].score must be between 0 and 1.",
        ),
        (
            {"segments": [{"text": "x", "speaker": ["A"]}]},
            "The WhisperX result's segments[0].speaker must be a string.",
        ),
        ({"language": 7}, "The WhisperX result's language must be a string."),
    ],
)
def test_nonsense_is_refused_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        from_whisperx(data)
    assert caught.value.detail == message


def test_to_whisperx_writes_the_shape_old_readers_expect() -> None:
    result = to_whisperx(from_whisperx(aligned_result()))
    assert result["language"] == "en"
    first = result["segments"][0]
    assert set(first) == {"start", "end", "text", "words", "speaker"}
    # Unplaced words have no start/end/score keys at all, as WhisperX writes them.
    assert first["words"][2] == {"word": "42", "speaker": "SPEAKER_00"}
    assert first["words"][0] == {
        "word": "It",
        "start": 0.51,
        "end": 0.62,
        "score": 0.91,
        "speaker": "SPEAKER_00",
    }
    assert "speaker" not in result["segments"][1]
    assert result["word_segments"] == first["words"]
    json.dumps(result, allow_nan=False)


def test_whisperx_round_trip_keeps_everything_the_model_holds() -> None:
    original = from_whisperx(aligned_result())
    assert from_whisperx(to_whisperx(original)) == original
    expected = aligned_result()
    again = to_whisperx(original)
    for segment in expected["segments"]:
        segment.pop("chars", None)
        segment.pop("avg_logprob", None)
    assert again == expected
