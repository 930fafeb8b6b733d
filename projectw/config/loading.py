"""Loading: defaults < YAML file (with !ENV substitution) < environment < CLI flags."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from projectw.config.settings import Settings
from projectw.errors import ConfigError
from projectw.paths import resolve_paths

ENV_PREFIX = "PROJECTW_"
# Environment variables read by CLI options rather than by the settings model.
CLI_ENV_VARS = frozenset({"PROJECTW_CONFIG", "PROJECTW_RUNNER_TOKEN", "PROJECTW_RUNNER_URL"})

Source = Literal["default", "file", "env", "cli"]


_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


class _EnvLoader(yaml.SafeLoader):
    """YAML loader that understands `!ENV ${VAR}` and `!ENV ${VAR:default}`."""


def _construct_env(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raw = loader.construct_scalar(node)  # type: ignore[arg-type]

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set (used in the config file)")

    substituted = _ENV_PATTERN.sub(substitute, str(raw))
    return yaml.safe_load(substituted) if substituted.strip() else None


_EnvLoader.add_constructor("!ENV", _construct_env)


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a YAML config file; an empty file is an empty mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_EnvLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must contain a mapping of settings")
    return data


def _model_for_path(path: list[str]) -> type[BaseModel] | None:
    """The section model a dotted path leads to, or None if the path is unknown."""
    model: type[BaseModel] = Settings
    for part in path[:-1]:
        info = model.model_fields.get(part)
        annotation = info.annotation if info else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model if path[-1] in model.model_fields else None


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Collect PROJECTW_* variables into a nested mapping; unknown names are an error."""
    result: dict[str, Any] = {}
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in CLI_ENV_VARS:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if _model_for_path(path) is None:
            raise ConfigError(f"unknown setting in environment variable {name}")
        parsed: Any = value
        if value[:1] in ("[", "{"):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                raise ConfigError(f"environment variable {name} is not valid JSON") from None
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = parsed
    return result


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _leaf_paths(data: Mapping[str, Any], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        paths.add(dotted)
        if isinstance(value, Mapping):
            paths |= _leaf_paths(value, dotted + ".")
    return paths


def _describe_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"unknown setting {location!r}"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"setting {location!r}: {message}"


@dataclass
class LoadedSettings:
    """Settings plus where each value came from."""

    settings: Settings
    config_file: Path | None
    layers: dict[Source, set[str]] = field(default_factory=dict)

    def source_of(self, dotted: str) -> Source:
        """The highest layer that set this setting or one of its enclosing sections."""
        parts = dotted.split(".")
        prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
        for source in ("cli", "env", "file"):
            if prefixes & self.layers.get(source, set()):
                return source
        return "default"


def load_settings(
    config_file: Path | str | None = None,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Build the settings from every source, lowest to highest precedence."""
    environ = os.environ if environ is None else environ
    cli_values = {key: value for key, value in (cli or {}).items() if value is not None}
    env_values = read_environment(environ)

    explicit = config_file or environ.get("PROJECTW_CONFIG")
    if explicit:
        path: Path | None = Path(explicit).expanduser()
        file_values = read_config_file(path)  # type: ignore[arg-type]
    else:
        data_dir = cli_values.get("data_dir") or env_values.get("data_dir")
        candidate = resolve_paths(data_dir).config_file
        path = candidate if candidate.is_file() else None
        file_values = read_config_file(candidate) if path else {}

    merged = _deep_merge(_deep_merge(file_values, env_values), cli_values)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe_error(exc)) from None
    layers: dict[Source, set[str]] = {
        "file": _leaf_paths(file_values),
        "env": _leaf_paths(env_values),
        "cli": _leaf_paths(cli_values),
    }
    return LoadedSettings(settings=settings, config_file=path, layers=layers)


def iter_fields(model: type[BaseModel] = Settings, prefix: str = "") -> list[tuple[str, str, Any]]:
    """Every leaf setting as (dotted name, help text, default), for docs and `config show`."""
    rows: list[tuple[str, str, Any]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        dotted = f"{prefix}{name}"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(iter_fields(annotation, dotted + "."))
        else:
            default = info.get_default(call_default_factory=True)
            rows.append((dotted, info.description or "", default))
    return rows
