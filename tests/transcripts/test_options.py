"""Render options, formats and their refusals."""

from __future__ import annotations

from typing import Any

import pytest

from projectw.errors import InvalidInput
from projectw.transcripts.render import FORMATS, Format, RenderOptions, render

from .builders import segment, transcript


def test_every_format_has_an_extension_and_a_media_type_with_charset() -> None:
    assert set(FORMATS) == {"txt", "srt", "vtt", "tsv", "json"}
    assert FORMATS["srt"] == ("srt", "application/x-subrip; charset=utf-8")
    assert FORMATS["vtt"] == ("vtt", "text/vtt; charset=utf-8")
    for extension, media_type in FORMATS.values():
        assert extension.isalpha()
        assert media_type.endswith("; charset=utf-8")


def test_defaults_are_whisperx_defaults() -> None:
    options = RenderOptions()
    assert options.max_line_width is None
    assert options.max_line_count is None
    assert options.highlight_words is False
    assert options.speaker_labels is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_line_width": 0}, "max_line_width must be a whole number of at least 1."),
        ({"max_line_width": -5}, "max_line_width must be a whole number of at least 1."),
        ({"max_line_width": True}, "max_line_width must be a whole number of at least 1."),
        ({"max_line_width": 4.5}, "max_line_width must be a whole number of at least 1."),
        (
            {"max_line_width": 40, "max_line_count": 0},
            "max_line_count must be a whole number of at least 1.",
        ),
        ({"max_line_count": 2}, "max_line_count needs max_line_width to be set as well."),
        ({"highlight_words": "yes"}, "highlight_words must be true or false."),
        ({"speaker_labels": 1}, "speaker_labels must be true or false."),
    ],
)
def test_invalid_options_are_refused_with_one_sentence(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        RenderOptions(**kwargs)
    assert caught.value.detail == message
    assert caught.value.status_code == 422


def test_an_unknown_format_is_refused_naming_the_choices() -> None:
    with pytest.raises(InvalidInput) as caught:
        render(transcript(), "docx")
    assert caught.value.detail == (
        "Unknown transcript format 'docx'; choose one of txt, srt, vtt, tsv, json."
    )


@pytest.mark.parametrize("fmt", ["txt", "tsv", "json"])
def test_subtitle_layout_options_leave_other_formats_unchanged(fmt: Format) -> None:
    # A job's subtitle settings must never stop or alter a plain-text download.
    t = transcript(segment(0, 2, "One two three four five six.", "One@0-0.2 two@0.3-0.5"))
    layout = RenderOptions(max_line_width=5, max_line_count=1, highlight_words=True)
    assert render(t, fmt, layout) == render(t, fmt)


def test_options_none_means_defaults() -> None:
    t = transcript(segment(0, 1, "Hi.", speaker="SPEAKER_01"))
    for fmt in FORMATS:
        assert render(t, fmt, None) == render(t, fmt, RenderOptions())
