"""txt, tsv and json: the formats that are not subtitles."""

from __future__ import annotations

import json

from projectw.transcripts.model import EngineInfo, Segment, Transcript, Word
from projectw.transcripts.render import RenderOptions, render

from .builders import segment, transcript

NO_LABELS = RenderOptions(speaker_labels=False)


def test_txt_is_one_segment_per_line() -> None:
    t = transcript(
        segment(0, 1.5, " Hello there. "),
        segment(1.5, 3, "How are\nyou\ttoday?"),
        segment(3, 4, "   "),
        segment(4, 5, "Fine."),
    )
    assert render(t, "txt") == "Hello there.\nHow are you today?\nFine.\n"


def test_txt_speaker_labels_can_be_turned_off() -> None:
    t = transcript(
        segment(0, 1, "Hi.", speaker="SPEAKER_00"),
        segment(1, 2, "Hello.", speaker="SPEAKER_01"),
        segment(2, 3, "Who was that?"),
    )
    assert render(t, "txt") == "[SPEAKER_00]: Hi.\n[SPEAKER_01]: Hello.\nWho was that?\n"
    assert render(t, "txt", NO_LABELS) == "Hi.\nHello.\nWho was that?\n"


def test_txt_of_an_empty_transcript_is_empty() -> None:
    assert render(transcript(), "txt") == ""


def test_txt_falls_back_to_the_words_when_the_segment_text_is_blank() -> None:
    english = transcript(segment(0, 1, "", "Good@0-0.4 morning@0.5-1"))
    japanese = transcript(segment(0, 1, "", "おは@0-0.4 よう@0.5-1"), language="ja")
    assert render(english, "txt") == "Good morning\n"
    assert render(japanese, "txt") == "おはよう\n"


def test_tsv_has_a_header_and_integer_milliseconds() -> None:
    t = transcript(
        segment(0.0, 1.2344, "First."),
        segment(1.2346, 6000.5, "Second\twith a tab\nand a line break.", speaker="SPEAKER_00"),
        segment(6000.5, 6001, " "),
    )
    assert render(t, "tsv") == (
        "start\tend\ttext\n"
        "0\t1234\tFirst.\n"
        "1235\t6000500\t[SPEAKER_00]: Second with a tab and a line break.\n"
    )
    assert render(t, "tsv", NO_LABELS).splitlines()[2] == (
        "1235\t6000500\tSecond with a tab and a line break."
    )


def test_tsv_never_ends_a_row_before_it_starts() -> None:
    t = transcript(segment(5.0, 4.9, "Backwards."))
    assert render(t, "tsv") == "start\tend\ttext\n5000\t5000\tBackwards.\n"


def test_tsv_of_an_empty_transcript_is_the_header() -> None:
    assert render(transcript(), "tsv") == "start\tend\ttext\n"


def test_json_is_the_canonical_document() -> None:
    t = Transcript(
        language="de",
        duration=12.5,
        engine=EngineInfo(name="faster-whisper", model="tiny"),
        segments=[
            Segment(
                start=0,
                end=2,
                text="Grüße aus Köln 🎉",
                speaker="SPEAKER_00",
                words=[
                    Word(word="Grüße", start=0, end=0.5, probability=0.9),
                    Word(word="aus"),
                    Word(word="Köln", start=1, end=1.5, speaker="SPEAKER_00"),
                    Word(word="🎉", start=1.6, end=2),
                ],
            )
        ],
    )
    rendered = render(t, "json")
    assert "Grüße aus Köln 🎉" in rendered  # UTF-8, not \u escapes
    assert Transcript.model_validate_json(rendered) == t
    document = json.loads(rendered)
    assert set(document) == {"language", "duration", "segments", "engine"}
    assert document["segments"][0]["words"][1] == {
        "word": "aus",
        "start": None,
        "end": None,
        "probability": None,
        "speaker": None,
    }


def test_json_of_an_empty_transcript_keeps_every_key() -> None:
    assert json.loads(render(Transcript(), "json")) == {
        "language": None,
        "duration": None,
        "segments": [],
        "engine": None,
    }
