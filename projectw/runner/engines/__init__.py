"""Transcription engines, chosen by name and imported only when chosen.

``dummy`` (tests and demos), ``faster-whisper`` and ``whisperx``; or ``package.module:factory``
for an engine of one's own. An engine module provides ``create(options) -> Engine``; ``options``
is the ``runner`` settings section as a plain mapping (engine-specific keys included) plus
``models_dir`` and ``model_cache_dir``. Real engines import heavy libraries, so nothing here
imports an engine module before it is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, cast

from projectw.runner.engines.base import Engine

ENGINES: dict[str, str] = {
    "dummy": "projectw.runner.engines.dummy:create",
    "faster-whisper": "projectw.runner.engines.faster_whisper:create",
    "whisperx": "projectw.runner.engines.whisperx:create",
}

EngineFactory = Callable[[Mapping[str, Any]], Engine]


class UnknownEngine(ValueError):
    """No engine has this name."""


def engine_factory(name: str) -> EngineFactory:
    """The factory of a named engine (or of ``module:attribute``); imports its module."""
    target = ENGINES.get(name, name if ":" in name else None)
    if target is None:
        raise UnknownEngine(
            f"There is no engine named {name!r}; choose one of {', '.join(ENGINES)} "
            "or give module:factory."
        )
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UnknownEngine(f"The engine module {module_name} does not exist.") from None
        raise
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise UnknownEngine(f"The engine module {module_name} has no factory {attribute!r}.")
    return cast(EngineFactory, factory)


def create_engine(name: str, options: Mapping[str, Any]) -> Engine:
    """Build the named engine with these options."""
    return engine_factory(name)(options)
