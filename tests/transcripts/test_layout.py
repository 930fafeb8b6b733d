"""Splitting segments into subtitle lines and cues: width, count, timings, highlighting."""

from __future__ import annotations

from projectw.transcripts.render import RenderOptions, render
from projectw.transcripts.subtitles import timestamp

from .builders import segment, transcript

SENTENCE = segment(
    1.0,
    6.0,
    "The quick brown fox jumps over the lazy dog.",
    "The@1.0-1.2 quick@1.3-1.6 brown@1.7-2.0 fox@2.1-2.5 jumps@2.6-3.0 "
    "over@3.1-3.4 the@3.5-3.6 lazy@3.7-4.2 dog.@4.3-6.0",
)


def srt_cues(srt: str) -> list[tuple[str, str, str]]:
    """(start, end, text) of every cue, read with the SubRip block structure."""
    cues = []
    for block in srt.split("\n\n"):
        if block:
            number, timing, text = block.split("\n", 2)
            start, end = timing.split(" --> ")
            cues.append((start, end, text))
    return cues


def ts(seconds: float) -> str:
    return timestamp(round(seconds * 1000), ",")


def test_width_wraps_a_segment_into_lines_of_one_cue() -> None:
    cues = srt_cues(render(transcript(SENTENCE), "srt", RenderOptions(max_line_width=16)))
    assert cues == [(ts(1.0), ts(6.0), "The quick brown\nfox jumps over\nthe lazy dog.")]


def test_width_and_count_split_cues_at_word_times() -> None:
    options = RenderOptions(max_line_width=16, max_line_count=1)
    cues = srt_cues(render(transcript(SENTENCE), "srt", options))
    assert cues == [
        (ts(1.0), ts(2.0), "The quick brown"),
        (ts(2.1), ts(3.4), "fox jumps over"),
        (ts(3.5), ts(6.0), "the lazy dog."),
    ]


def test_two_lines_per_cue() -> None:
    options = RenderOptions(max_line_width=10, max_line_count=2)
    cues = srt_cues(render(transcript(SENTENCE), "srt", options))
    assert cues == [
        (ts(1.0), ts(2.5), "The quick\nbrown fox"),
        (ts(2.6), ts(4.2), "jumps over\nthe lazy"),
        (ts(4.3), ts(6.0), "dog."),
    ]


def test_a_word_longer_than_a_line_gets_a_line_of_its_own() -> None:
    long_word = "supercalifragilistic"
    t = transcript(segment(0, 3, f"a {long_word} b", f"a@0-1 {long_word}@1-2 b@2-3"))
    cues = srt_cues(render(t, "srt", RenderOptions(max_line_width=5)))
    assert cues == [(ts(0), ts(3), f"a\n{long_word}\nb")]


def test_the_speaker_label_takes_room_on_the_first_line_of_every_cue() -> None:
    t = transcript(segment(0, 4, "aa bbb ccc dd", "aa@0-1 bbb@1-2 ccc@2-3 dd@3-4", speaker="S1"))
    options = RenderOptions(max_line_width=8, max_line_count=2)
    cues = srt_cues(render(t, "srt", options))
    # "[S1]: " is six characters, so only a two-letter word fits beside it.
    assert cues == [(ts(0), ts(3), "[S1]: aa\nbbb ccc"), (ts(3), ts(4), "[S1]: dd")]


def test_without_word_timings_cues_split_in_proportion_to_characters() -> None:
    # 4 + 4 + 4 characters over 12 s: each line gets its share of the time, with no gaps.
    t = transcript(segment(10.0, 22.0, "aaaa bbbb cccc"))
    cues = srt_cues(render(t, "srt", RenderOptions(max_line_width=4, max_line_count=1)))
    assert cues == [
        (ts(10), ts(14), "aaaa"),
        (ts(14), ts(18), "bbbb"),
        (ts(18), ts(22), "cccc"),
    ]


def test_words_without_timings_share_the_time_between_their_timed_neighbours() -> None:
    t = transcript(segment(0, 10, "one 22 333 four", "one@0-1 22 333 four@6-10"))
    options = RenderOptions(max_line_width=3, max_line_count=1)
    cues = srt_cues(render(t, "srt", options))
    # "22" and "333" split 1 s..6 s in the ratio 2:3.
    assert cues == [
        (ts(0), ts(1), "one"),
        (ts(1), ts(3), "22"),
        (ts(3), ts(6), "333"),
        (ts(6), ts(10), "four"),
    ]


def test_a_long_pause_starts_a_new_cue_when_cues_are_split_by_count() -> None:
    t = transcript(segment(0, 10, "before after", "before@0-1 after@4.5-5"))
    split = srt_cues(render(t, "srt", RenderOptions(max_line_width=40, max_line_count=2)))
    assert split == [(ts(0), ts(1), "before"), (ts(4.5), ts(5), "after")]
    kept = srt_cues(render(t, "srt", RenderOptions(max_line_width=40)))
    assert kept == [(ts(0), ts(5), "before after")]


def test_overlapping_word_times_still_give_ordered_cues() -> None:
    t = transcript(segment(0, 3, "a b c", "a@0-1.5 b@1.2-2 c@2-3"))
    cues = srt_cues(render(t, "srt", RenderOptions(max_line_width=1, max_line_count=1)))
    assert cues == [(ts(0), ts(1.5), "a"), (ts(1.5), ts(2), "b"), (ts(2), ts(3), "c")]


def test_word_times_outside_the_segment_are_kept_inside_it() -> None:
    t = transcript(segment(1, 2, "a b", "a@0.5-1.5 b@1.5-9"))
    cues = srt_cues(render(t, "srt", RenderOptions(max_line_width=1, max_line_count=1)))
    assert cues == [(ts(1), ts(1.5), "a"), (ts(1.5), ts(2), "b")]


def test_cues_never_span_two_segments() -> None:
    t = transcript(
        segment(0, 1, "a b", "a@0-0.5 b@0.5-1", speaker="S1"),
        segment(1, 2, "c d", "c@1-1.5 d@1.5-2", speaker="S2"),
    )
    cues = srt_cues(render(t, "srt", RenderOptions(max_line_width=80, max_line_count=3)))
    assert cues == [(ts(0), ts(1), "[S1]: a b"), (ts(1), ts(2), "[S2]: c d")]


def test_languages_without_spaces_join_words_and_break_anywhere() -> None:
    timed = transcript(
        segment(0, 3, "今日は晴れです", "今日@0-1 は@1-1.5 晴れ@1.5-2.5 です@2.5-3"),
        language="ja",
    )
    cues = srt_cues(render(timed, "srt", RenderOptions(max_line_width=4, max_line_count=1)))
    assert cues == [(ts(0), ts(1.5), "今日は"), (ts(1.5), ts(3), "晴れです")]
    untimed = transcript(segment(0, 6, "你好世界再见"), language="zh-CN")
    cues = srt_cues(render(untimed, "srt", RenderOptions(max_line_width=2, max_line_count=1)))
    assert cues == [(ts(0), ts(2), "你好"), (ts(2), ts(4), "世界"), (ts(4), ts(6), "再见")]


def test_highlight_gives_one_cue_per_word_and_plain_cues_in_pauses() -> None:
    t = transcript(segment(0, 3, "I am here", "I@0-0.5 am@1-1.5 here@1.5-2.5", speaker="S1"))
    cues = srt_cues(render(t, "srt", RenderOptions(highlight_words=True)))
    assert cues == [
        (ts(0), ts(0.5), "[S1]: <u>I</u> am here"),
        (ts(0.5), ts(1), "[S1]: I am here"),
        (ts(1), ts(1.5), "[S1]: I <u>am</u> here"),
        (ts(1.5), ts(2.5), "[S1]: I am <u>here</u>"),
    ]


def test_highlight_keeps_line_breaks_and_never_underlines_untimed_words() -> None:
    t = transcript(segment(0, 4, "one two 3", "one@0-1 two@1-2 3"))
    options = RenderOptions(max_line_width=7, highlight_words=True)
    cues = srt_cues(render(t, "srt", options))
    # "3" has no timing: it is never underlined, and the cue stays up for its estimated time.
    assert cues == [
        (ts(0), ts(1), "<u>one</u> two\n3"),
        (ts(1), ts(2), "one <u>two</u>\n3"),
        (ts(2), ts(4), "one two\n3"),
    ]


def test_highlight_skips_words_of_zero_length() -> None:
    t = transcript(segment(0, 2, "a b c", "a@0-1 b@1-1 c@1-2"))
    cues = srt_cues(render(t, "srt", RenderOptions(highlight_words=True)))
    assert [text for _, _, text in cues] == ["<u>a</u> b c", "a b <u>c</u>"]


def test_highlight_without_any_word_timing_gives_plain_cues() -> None:
    t = transcript(segment(0, 2, "no timings here"))
    highlighted = render(t, "srt", RenderOptions(highlight_words=True))
    assert srt_cues(highlighted) == [(ts(0), ts(2), "no timings here")]


def test_highlight_markup_in_vtt_is_not_escaped_but_the_words_are() -> None:
    t = transcript(segment(0, 1, "R&D <3", "R&D@0-0.5 <3@0.5-1"))
    vtt = render(t, "vtt", RenderOptions(highlight_words=True))
    assert "\n<u>R&amp;D</u> &lt;3\n" in vtt
    assert "\nR&amp;D <u>&lt;3</u>\n" in vtt
