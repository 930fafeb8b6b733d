"""Job settings: Project-W 0.6 names and defaults, every validation rule, defaults merging."""

from __future__ import annotations

from typing import Any

import pytest

from projectw.errors import InvalidInput
from projectw.jobs.settings import (
    ALIGNMENT_LANGUAGES,
    LANGUAGES,
    JobSettings,
    resolve_settings,
    validate_settings,
)


def test_defaults_have_the_project_w_shape() -> None:
    assert JobSettings().model_dump(mode="json") == {
        "email_notification": False,
        "task": "transcribe",
        "model": "small",
        "language": None,
        "alignment": {
            "processing": {
                "highlight_words": False,
                "max_line_count": None,
                "max_line_width": None,
            },
            "return_char_alignments": False,
            "interpolate_method": "nearest",
        },
        "diarization": None,
        "vad_settings": {"vad_onset": 0.5, "vad_offset": 0.363, "chunk_size": 30},
        "asr_settings": {
            "beam_size": 5,
            "patience": 1.0,
            "length_penalty": 1.0,
            "temperature": 0.0,
            "temperature_increment_on_fallback": 0.2,
            "compression_ratio_threshold": 2.4,
            "log_prob_threshold": -1.0,
            "no_speech_threshold": 0.6,
            "initial_prompt": None,
            "suppress_tokens": [-1],
            "suppress_numerals": False,
        },
    }


def test_language_lists_match_whisper() -> None:
    assert len(LANGUAGES) == 100
    assert len(ALIGNMENT_LANGUAGES) == 40
    assert ALIGNMENT_LANGUAGES <= LANGUAGES


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": "small.en"}, "Field 'settings': the English-only model small.en needs"),
        ({"model": "tiny.en", "language": "de"}, "needs language 'en'"),
        ({"task": "translate"}, "alignment is not available when translating"),
        (
            {"task": "translate", "alignment": None, "language": "en"},
            "translating English into English",
        ),
        ({"language": "xx"}, "language 'xx' is not one Whisper knows"),
        ({"language": "sw"}, "alignment is not available for language 'sw'"),
        (
            {"diarization": {"min_speakers": 3, "max_speakers": 2}},
            "Field 'settings.diarization': max_speakers must be at least min_speakers",
        ),
        (
            {"alignment": {"processing": {"max_line_count": 2}}},
            "max_line_count needs max_line_width",
        ),
        ({"model": "huge"}, "Field 'settings.model'"),
        ({"task": "summarise"}, "Field 'settings.task'"),
        ({"vad_settings": {"vad_onset": 1.0}}, "Field 'settings.vad_settings.vad_onset'"),
        ({"vad_settings": {"chunk_size": 31}}, "Field 'settings.vad_settings.chunk_size'"),
        ({"asr_settings": {"beam_size": 0}}, "Field 'settings.asr_settings.beam_size'"),
        ({"asr_settings": {"patience": 0}}, "Field 'settings.asr_settings.patience'"),
        ({"asr_settings": {"length_penalty": 1.5}}, "settings.asr_settings.length_penalty"),
        ({"asr_settings": {"temperature": -0.1}}, "settings.asr_settings.temperature"),
        (
            {"asr_settings": {"temperature_increment_on_fallback": 0}},
            "settings.asr_settings.temperature_increment_on_fallback",
        ),
        (
            {"asr_settings": {"compression_ratio_threshold": -1}},
            "settings.asr_settings.compression_ratio_threshold",
        ),
        ({"asr_settings": {"initial_prompt": "x" * 2001}}, "settings.asr_settings.initial_prompt"),
        ({"asr_settings": {"suppress_tokens": ["a"]}}, "settings.asr_settings.suppress_tokens.0"),
        ({"diarization": {"min_speakers": -1}}, "settings.diarization.min_speakers"),
        ({"alignment": {"processing": {"max_line_width": 0}}}, "max_line_width"),
        ({"alignment": {"interpolate_method": "cubic"}}, "interpolate_method"),
        ({"modle": "small"}, "Field 'settings.modle' is not a job setting."),
    ],
)
def test_invalid_settings_are_refused_with_a_sentence(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_settings(settings)
    assert message in caught.value.detail
    assert caught.value.detail.endswith(".")
    assert caught.value.status_code == 422


@pytest.mark.parametrize(
    "settings",
    [
        {"model": "small.en", "language": "en"},
        {"task": "translate", "alignment": None, "language": "de"},
        {"task": "translate", "alignment": None},
        {"language": "sw", "alignment": None},
        {"diarization": {"min_speakers": 2, "max_speakers": 2}},
        {"diarization": {}},
        {"alignment": {"processing": {"max_line_count": 2, "max_line_width": 42}}},
        {"asr_settings": {"initial_prompt": "Glossary: Project-W."}},
    ],
)
def test_valid_combinations_are_accepted(settings: dict[str, Any]) -> None:
    validate_settings(settings)


def test_settings_must_be_an_object() -> None:
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        validate_settings([1, 2])


def test_resolve_uses_request_then_user_defaults_then_configured_model() -> None:
    assert resolve_settings(None, None, "tiny").model == "tiny"
    user = {"model": "base", "language": "de", "email_notification": True}
    resolved = resolve_settings(None, user, "tiny")
    assert (resolved.model, resolved.language, resolved.email_notification) == ("base", "de", True)
    resolved = resolve_settings({"language": "fr"}, user, "tiny")
    assert (resolved.model, resolved.language, resolved.email_notification) == ("base", "fr", True)


def test_resolve_refuses_a_combination_made_invalid_by_the_request() -> None:
    with pytest.raises(InvalidInput, match="needs language 'en'"):
        resolve_settings({"language": "de"}, {"model": "small.en", "language": "en"}, "small")
