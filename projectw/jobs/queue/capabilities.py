"""Which runner can serve which job: engine, model and features against the job's settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from projectw.runner.engines.base import Capabilities

# Project-W 0.6 runners send no capabilities. They run WhisperX with every feature, but
# validate a job's model against their own list and stop when it is not on it.
LEGACY_MODELS = (
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "turbo",
    "large",
)
LEGACY_CAPABILITIES = Capabilities(
    engine="whisperx",
    models=list(LEGACY_MODELS),
    features=["translate", "alignment", "diarization", "vad"],
)

NO_RUNNER_ONLINE = "No runner is online; the job starts when one connects."

_FEATURE_WORDS = {
    "translate": "translation",
    "alignment": "alignment",
    "diarization": "diarization",
}


@dataclass(frozen=True)
class Requirements:
    """What a job needs from a runner."""

    model: str | None
    features: frozenset[str]
    engine: str | None = None


def requirements(settings: Mapping[str, Any]) -> Requirements:
    """Read a job's needs from its settings (Project-W 0.6 field names)."""
    features = set()
    if settings.get("task") == "translate":
        features.add("translate")
    if settings.get("alignment") is not None:
        features.add("alignment")
    if settings.get("diarization") is not None:
        features.add("diarization")
    model = settings.get("model")
    engine = settings.get("engine")
    return Requirements(
        model=str(model) if model is not None else None,
        features=frozenset(features),
        engine=str(engine) if engine is not None else None,
    )


def parse_capabilities(stored: Mapping[str, Any] | None) -> Capabilities:
    """A runner's stored capabilities; a runner that sent none is a Project-W 0.6 runner."""
    if stored is None:
        return LEGACY_CAPABILITIES
    try:
        return Capabilities.model_validate(stored)
    except ValidationError:
        return LEGACY_CAPABILITIES


def missing(capabilities: Capabilities, needs: Requirements) -> list[str]:
    """What the runner lacks for the job, in words; empty when it can serve it."""
    lacking: list[str] = []
    if needs.engine is not None and needs.engine != capabilities.engine:
        lacking.append(f"the engine '{needs.engine}'")
    if (
        needs.model is not None
        and needs.model not in capabilities.models
        and not capabilities.downloadable
    ):
        lacking.append(f"the model '{needs.model}'")
    offered = set(capabilities.features)
    lacking.extend(_FEATURE_WORDS[f] for f in sorted(needs.features) if f not in offered)
    return lacking


def can_serve(capabilities: Capabilities, settings: Mapping[str, Any]) -> bool:
    return not missing(capabilities, requirements(settings))


def describe_wait(online: Iterable[Capabilities], settings: Mapping[str, Any]) -> str | None:
    """Why a queued job waits for something other than a free runner, or None."""
    online = list(online)
    if not online:
        return NO_RUNNER_ONLINE
    return unservable(online, settings)


def unservable(online: Iterable[Capabilities], settings: Mapping[str, Any]) -> str | None:
    """A sentence saying why no online runner can serve these settings, or None."""
    needs = requirements(settings)
    gaps = [missing(capabilities, needs) for capabilities in online]
    if not gaps or any(not gap for gap in gaps):
        return None
    closest = min(gaps, key=len)
    return f"No online runner can serve this job; it needs {' and '.join(closest)}."
