"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from projectw.config import LoadedSettings, load_settings
from projectw.logs import configure_logging

F = TypeVar("F", bound=Callable[..., Any])


def settings_options(func: F) -> F:
    """--config and --data-dir, which every command that reads settings accepts."""
    func = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder for database, secret key, cache and logs (env PROJECTW_DATA_DIR).",
    )(func)
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="YAML config file (env PROJECTW_CONFIG). Default: config.yml in the config dir.",
    )(func)
    return func


def load(config_file: Path | None, data_dir: Path | None, **overrides: Any) -> LoadedSettings:
    """Settings from every source with these CLI flags on top; logging configured."""
    loaded = load_settings(config_file, {"data_dir": data_dir, **overrides})
    configure_logging(loaded.settings.log_level, loaded.settings.log_format)
    return loaded
