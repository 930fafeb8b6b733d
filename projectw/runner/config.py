"""What a runner needs to know: where the server is, who it is, which engine to run."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projectw import __version__

if TYPE_CHECKING:
    from projectw.config import Settings

# Settings of the runner section that are about the connection, not the engine.
_NOT_FOR_ENGINES = frozenset(
    {"embedded", "server_url", "token", "name", "priority", "abort_grace_seconds"}
)


@dataclass(frozen=True)
class RunnerConfig:
    """One runner's configuration, plain values only (no server modules needed)."""

    server_url: str
    token: str = field(repr=False)
    name: str
    engine: str = "dummy"
    engine_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    priority: int = 100
    long_poll_seconds: float = 25.0
    heartbeat_seconds: float = 1.0
    shutdown_grace_seconds: float = 30.0
    abort_grace_seconds: float = 0.5
    work_dir: Path | None = None
    log_level: str = "info"
    version: str = __version__
    git_hash: str = ""
    source_code_url: str = ""


def engine_options(settings: Settings) -> dict[str, Any]:
    """The runner settings an engine reads, plus where models live."""
    options = {
        key: value
        for key, value in settings.runner.model_dump().items()
        if key not in _NOT_FOR_ENGINES
    }
    paths = settings.paths
    options["models_dir"] = str(paths.models_dir)
    options["model_cache_dir"] = str(paths.model_cache_dir)
    return options


def runner_config(
    settings: Settings, *, server_url: str, token: str, default_name: str | None = None
) -> RunnerConfig:
    """A runner's configuration from the settings' runner section."""
    runner = settings.runner
    return RunnerConfig(
        server_url=server_url,
        token=token,
        name=runner.name or default_name or socket.gethostname()[:40],
        engine=runner.engine,
        engine_options=engine_options(settings),
        priority=runner.priority,
        long_poll_seconds=runner.long_poll_seconds,
        heartbeat_seconds=runner.heartbeat_seconds,
        shutdown_grace_seconds=runner.shutdown_grace_seconds,
        abort_grace_seconds=runner.abort_grace_seconds,
        work_dir=settings.paths.tmp_dir,
        log_level=settings.log_level,
    )
