"""Engine tests use the real ``tiny.en`` model and never reach a model hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.engines.speech import SENTENCE, speak, tiny_model_path

# Set before any model library is imported: huggingface_hub reads these once, at import.
for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[_name] = "1"


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    return tiny_model_path()


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def sentence_wav(speech_dir: Path) -> Path:
    """SENTENCE spoken by espeak-ng."""
    return speak(SENTENCE, speech_dir / "sentence.wav")
