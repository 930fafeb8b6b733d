"""Where Project-W keeps its configuration, data, cache and logs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "projectw"
DATA_DIR_ENV = "PROJECTW_DATA_DIR"
CONFIG_FILE_NAME = "config.yml"


@dataclass(frozen=True)
class Paths:
    """The directories one Project-W installation uses."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE_NAME

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret_key"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def model_cache_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"


def resolve_paths(data_dir: Path | str | None = None) -> Paths:
    """Platform directories, or everything but the config under one data dir.

    The explicit ``data_dir`` wins over ``PROJECTW_DATA_DIR``; either moves data, cache and
    logs together so that tests and containers own one folder.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    config_dir = Path(platformdirs.user_config_dir(APP_NAME))
    if chosen is not None:
        root = Path(chosen).expanduser().absolute()
        return Paths(config_dir, root, root / "cache", root / "logs")
    return Paths(
        config_dir=config_dir,
        data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME)),
    )
