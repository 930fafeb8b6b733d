"""`projectw paths` and `projectw config show`."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from pydantic import SecretStr

from projectw.cli.options import settings_options
from projectw.config import ENV_PREFIX, iter_fields, load_settings
from projectw.paths import resolve_paths

_MASK = "********"


@click.command()
@settings_options
def paths(config_file: Path | None, data_dir: Path | None) -> None:
    """Print where configuration, data, cache and logs live."""
    loaded = load_settings(config_file, {"data_dir": data_dir})
    resolved = resolve_paths(loaded.settings.data_dir)
    config_path = loaded.config_file or resolved.config_file
    rows = [
        ("config", config_path if loaded.config_file else f"{config_path} (not present)"),
        ("data", resolved.data_dir),
        (
            "database",
            loaded.settings.effective_database_url.split("///", 1)[-1]
            if loaded.settings.effective_database_url.startswith("sqlite")
            else "(PostgreSQL)",
        ),
        ("secret key", resolved.secret_key_file),
        ("models", resolved.models_dir),
        ("cache", resolved.cache_dir),
        ("logs", resolved.log_dir),
    ]
    for name, value in rows:
        click.echo(f"{name:<11} {value}")


def _lookup(settings: Any, dotted: str) -> Any:
    value = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def mask_url(value: str) -> str:
    """The URL with its password replaced by asterisks."""
    parts = urlsplit(value)
    if not parts.password:
        return value
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{_MASK}@{host}"))


def mask(name: str, value: Any) -> str:
    """A setting's value as shown to people: secrets and URL passwords hidden."""
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return _MASK
    if name.endswith("_url"):
        return mask_url(str(value))
    if name.rsplit(".", 1)[-1].endswith(("password", "token", "secret", "_key")):
        return _MASK
    return str(value)


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@settings_options
def show(config_file: Path | None, data_dir: Path | None) -> None:
    """Print the effective settings and where each value came from (secrets masked)."""
    loaded = load_settings(config_file, {"data_dir": data_dir})
    click.echo(f"# config file: {loaded.config_file or '(none)'}")
    for name, _help, _default in iter_fields():
        value = _lookup(loaded.settings, name)
        click.echo(f"{name} = {mask(name, value)}  [{loaded.source_of(name)}]")


def settings_reference() -> str:
    """The configuration reference as a Markdown table (the README embeds it)."""
    lines = [
        "| setting | environment variable | default | description |",
        "|---|---|---|---|",
    ]
    for name, help_text, default in iter_fields():
        env = ENV_PREFIX + name.replace(".", "__").upper()
        shown = "(unset)" if default is None else f"`{default}`"
        description = help_text.replace("|", "\\|")
        lines.append(f"| `{name}` | `{env}` | {shown} | {description} |")
    return "\n".join(lines) + "\n"


@config.command("reference")
def reference() -> None:
    """Print every setting with its environment variable, default and help (Markdown)."""
    click.echo(settings_reference(), nl=False)
