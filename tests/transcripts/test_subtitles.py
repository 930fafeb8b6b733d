"""srt and vtt: exact output, timestamps and escaping."""

from __future__ import annotations

from projectw.transcripts.render import RenderOptions, render

from .builders import segment, transcript

TWO_SPEAKERS = transcript(
    segment(0.5, 2.25, " Hello there.", speaker="SPEAKER_00"),
    segment(2.5, 4.0, " General Kenobi!", speaker="SPEAKER_01"),
)


def test_srt_is_numbered_cues_with_comma_milliseconds() -> None:
    assert render(TWO_SPEAKERS, "srt") == (
        "1\n"
        "00:00:00,500 --> 00:00:02,250\n"
        "[SPEAKER_00]: Hello there.\n"
        "\n"
        "2\n"
        "00:00:02,500 --> 00:00:04,000\n"
        "[SPEAKER_01]: General Kenobi!\n"
        "\n"
    )


def test_vtt_has_a_header_and_dot_milliseconds_with_hours() -> None:
    assert render(TWO_SPEAKERS, "vtt", RenderOptions(speaker_labels=False)) == (
        "WEBVTT\n"
        "\n"
        "00:00:00.500 --> 00:00:02.250\n"
        "Hello there.\n"
        "\n"
        "00:00:02.500 --> 00:00:04.000\n"
        "General Kenobi!\n"
        "\n"
    )


def test_empty_transcripts() -> None:
    assert render(transcript(), "srt") == ""
    assert render(transcript(), "vtt") == "WEBVTT\n\n"
    blank = transcript(segment(0, 1, "  \n "))
    assert render(blank, "srt") == ""
    assert render(blank, "vtt") == "WEBVTT\n\n"


def test_timestamps_past_99_minutes_and_99_hours() -> None:
    t = transcript(
        segment(5999.9994, 6000.0005, "Just under and over 100 minutes."),
        segment(359999.999, 360000.001, "Around 100 hours."),
    )
    srt = render(t, "srt")
    assert "01:39:59,999 --> 01:40:00,000\n" in srt  # 6000.0005 s rounds to 6000000 ms
    assert "99:59:59,999 --> 100:00:00,001\n" in srt
    vtt = render(t, "vtt")
    assert "01:39:59.999 --> 01:40:00.000\n" in vtt
    assert "99:59:59.999 --> 100:00:00.001\n" in vtt


def test_a_cue_never_ends_before_it_starts() -> None:
    t = transcript(segment(3.0, 2.0, "Odd timing."))
    assert "00:00:03,000 --> 00:00:03,000\n" in render(t, "srt")


def test_vtt_escapes_markup_characters_and_arrows() -> None:
    t = transcript(segment(0, 1, "Fish & chips <b>bold</b> a --> b", speaker="<x>"))
    vtt = render(t, "vtt")
    assert "[&lt;x&gt;]: Fish &amp; chips &lt;b&gt;bold&lt;/b&gt; a --&gt; b\n" in vtt


def test_srt_replaces_arrows_so_no_text_line_reads_as_timing() -> None:
    t = transcript(segment(0, 1, "a --> b & <c>"))
    assert "\na -> b & <c>\n" in render(t, "srt")


def test_multiline_segment_text_becomes_one_line_without_blank_lines() -> None:
    t = transcript(segment(0, 1, "one\n\ntwo\r\nthree"))
    assert render(t, "srt") == "1\n00:00:00,000 --> 00:00:01,000\none two three\n\n"


def test_unicode_passes_through_unchanged() -> None:
    t = transcript(segment(0, 1, "Ça va? 日本語 🎉 Ωmega"))
    assert "\nÇa va? 日本語 🎉 Ωmega\n" in render(t, "srt")
    assert "\nÇa va? 日本語 🎉 Ωmega\n" in render(t, "vtt")


def test_speaker_names_on_several_lines_become_one_line() -> None:
    t = transcript(segment(0, 1, "Hi.", speaker="Dr.\nWho"))
    assert "\n[Dr. Who]: Hi.\n" in render(t, "srt")
