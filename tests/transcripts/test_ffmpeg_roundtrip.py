"""srt and vtt read back by ffmpeg: every cue time exact to the millisecond, every text intact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from projectw.transcripts.render import Format, RenderOptions, render

from .builders import segment, transcript
from .ffmpeg_subtitles import ParsedCue, decoded_texts, read_cues

MIXED = transcript(
    segment(0.0, 1.0005, "First, at zero.", speaker="SPEAKER_00"),
    segment(1.2345, 2.3456, " Ça va? 日本語 🎉 — “quoted” ", speaker="SPEAKER_01"),
    segment(59.9995, 61.0, "Across a minute."),
    segment(3599.999, 3600.001, "Across an hour.", speaker="SPEAKER_00"),
    segment(5999.5, 6000.25, "Past ninety-nine minutes."),
    segment(8.0, 8.0, "A zero-length cue."),
    segment(9.0, 10.0, "   "),
    segment(359999.9995, 360001.5, "Past ninety-nine hours."),
    segment(1800000.001, 1800002.0, "Five hundred hours in."),
)


def write(tmp_path: Path, fmt: str, text: str) -> Path:
    path = tmp_path / f"out.{fmt}"
    path.write_text(text, encoding="utf-8")
    return path


def ms(seconds: float) -> int:
    return round(seconds * 1000)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_every_segment_comes_back_with_exact_times_and_text(tmp_path: Path, fmt: Format) -> None:
    cues = read_cues(write(tmp_path, fmt, render(MIXED, fmt)))
    expected = [
        ParsedCue(
            ms(seg.start),
            ms(seg.end),
            (f"[{seg.speaker}]: " if seg.speaker else "") + " ".join(seg.text.split()),
        )
        for seg in MIXED.segments
        if seg.text.strip()
    ]
    # ffmpeg orders cues by start time, as players do.
    assert cues == sorted(expected, key=lambda cue: cue.start)
    assert cues[-1].start == 1_800_000_001


def test_vtt_escapes_decode_back_to_the_original_text(tmp_path: Path) -> None:
    t = transcript(
        segment(0, 1, "Fish & chips < 3 > 2 -- ok", speaker="<b>"),
        segment(1, 2, "&amp; is written literally"),
    )
    path = write(tmp_path, "vtt", render(t, "vtt"))
    assert decoded_texts(path) == [
        "[<b>]: Fish & chips < 3 > 2 -- ok",
        "&amp; is written literally",
    ]
    assert [cue.payload for cue in read_cues(path)] == [
        "[&lt;b&gt;]: Fish &amp; chips &lt; 3 &gt; 2 -- ok",
        "&amp;amp; is written literally",
    ]


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_arrows_in_the_text_cannot_break_a_cue(tmp_path: Path, fmt: Format) -> None:
    t = transcript(segment(0, 1, "a --> b"), segment(1, 2, "next"))
    path = write(tmp_path, fmt, render(t, fmt))
    cues = read_cues(path)
    assert [(cue.start, cue.end) for cue in cues] == [(0, 1000), (1000, 2000)]
    assert decoded_texts(path) == ["a -> b" if fmt == "srt" else "a --> b", "next"]


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_split_cues_come_back_at_word_times(tmp_path: Path, fmt: Format) -> None:
    t = transcript(
        segment(
            7199.5,
            7205.25,
            "one two three four",
            "one@7199.5-7200.0004 two@7200.1-7201 three@7202.2226-7203 four@7204-7205.25",
            speaker="SPEAKER_03",
        )
    )
    options = RenderOptions(max_line_width=22, max_line_count=1)
    cues = read_cues(write(tmp_path, fmt, render(t, fmt, options)))
    assert cues == [
        ParsedCue(7_199_500, 7_201_000, "[SPEAKER_03]: one two"),
        ParsedCue(7_202_223, 7_203_000, "[SPEAKER_03]: three"),
        ParsedCue(7_204_000, 7_205_250, "[SPEAKER_03]: four"),
    ]


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_highlighted_words_come_back_underlined_at_their_times(tmp_path: Path, fmt: Format) -> None:
    t = transcript(
        segment(100, 103, "say it again", "say@100-100.5 it@101-101.25 again@101.25-103")
    )
    path = write(tmp_path, fmt, render(t, fmt, RenderOptions(highlight_words=True)))
    assert read_cues(path) == [
        ParsedCue(100_000, 100_500, "<u>say</u> it again"),
        ParsedCue(100_500, 101_000, "say it again"),
        ParsedCue(101_000, 101_250, "say <u>it</u> again"),
        ParsedCue(101_250, 103_000, "say it <u>again</u>"),
    ]
    assert set(decoded_texts(path)) == {"say it again"}


def test_srt_converted_by_ffmpeg_to_webvtt_keeps_times_and_text(tmp_path: Path) -> None:
    source = write(tmp_path, "srt", render(MIXED, "srt"))
    converted = tmp_path / "converted.vtt"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(source), str(converted)], check=True)
    ours = write(tmp_path, "vtt", render(MIXED, "vtt"))
    assert read_cues(converted) == read_cues(ours)
    assert decoded_texts(converted) == decoded_texts(ours)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_a_long_untimed_segment_is_cut_into_contiguous_cues(tmp_path: Path, fmt: Format) -> None:
    words = [f"word{n}" for n in range(400)]
    t = transcript(segment(3600.0, 3780.0, " ".join(words), speaker="SPEAKER_00"))
    options = RenderOptions(max_line_width=42, max_line_count=2)
    cues = read_cues(write(tmp_path, fmt, render(t, fmt, options)))
    assert len(cues) > 20
    assert cues[0].start == 3_600_000
    assert cues[-1].end == 3_780_000
    assert all(before.end == after.start for before, after in zip(cues, cues[1:], strict=False))
    shown = []
    for cue in cues:
        lines = cue.payload.split("\n")
        assert lines[0].startswith("[SPEAKER_00]: ")
        assert len(lines) <= 2
        assert all(len(line) <= 42 for line in lines)
        shown += cue.payload.removeprefix("[SPEAKER_00]: ").split()
    assert shown == words
