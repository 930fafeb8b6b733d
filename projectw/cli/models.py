"""`projectw models list|pull|rm`: the Whisper models this machine has, and its download cache."""

from __future__ import annotations

from pathlib import Path

import click

from projectw.cli.options import load, settings_options
from projectw.config import Settings
from projectw.runner.models import (
    HUB_REPOSITORIES,
    ModelStore,
    ModelUnavailable,
    folder_size,
    model_sources,
)


def model_store(settings: Settings) -> ModelStore:
    """The model store the runner section of ``settings`` describes."""
    return ModelStore(model_sources(settings))


def _size(path: Path) -> str:
    return f"{folder_size(path) / 1024**2:.0f} MiB"


@click.group()
def models() -> None:
    """Manage Whisper models: list what this machine has, download, remove."""


@models.command("list")
@settings_options
def list_models(config_file: Path | None, data_dir: Path | None) -> None:
    """Models this machine can serve now, where each comes from, and its size."""
    store = model_store(load(config_file, data_dir).settings)
    sources = store.sources
    names = set(sources.model_paths) | set(store.available()) | set(store.cached())
    if not names:
        click.echo("No models on this machine yet.")
    for name in sorted(names):
        try:
            found = store.local(name)
        except ModelUnavailable as exc:
            click.echo(f"{name:<16} unusable  {exc}")
            continue
        if found is None:
            click.echo(f"{name:<16} unusable  incomplete download in {store.cache_path(name)}")
            continue
        where = {"config": "configured", "models_dir": "models dir", "cache": "cache"}
        click.echo(
            f"{name:<16} {where.get(found.source, found.source):<10} "
            f"{_size(found.path):>9}  {found.path}"
        )
    if sources.offline:
        click.echo("Downloads are turned off (runner.offline).")
    else:
        others = sorted(set(HUB_REPOSITORIES) - names)
        click.echo(f"Can be downloaded: {', '.join(others)}")


@models.command("pull")
@click.argument("names", nargs=-1, required=True)
@settings_options
def pull(names: tuple[str, ...], config_file: Path | None, data_dir: Path | None) -> None:
    """Download models into the model cache (progress is logged)."""
    store = model_store(load(config_file, data_dir).settings)
    for name in names:
        try:
            found = store.local(name)
            if found is not None:
                click.echo(f"{name}: already here ({found.path})")
                continue
            model = store.download(name)
        except ModelUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{name}: downloaded to {model.path} ({_size(model.path)})")


@models.command("rm")
@click.argument("names", nargs=-1, required=True)
@settings_options
def remove(names: tuple[str, ...], config_file: Path | None, data_dir: Path | None) -> None:
    """Delete downloaded models from the cache (configured folders are left alone)."""
    store = model_store(load(config_file, data_dir).settings)
    missing = []
    for name in names:
        try:
            removed = store.remove(name)
        except ModelUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        if removed:
            click.echo(f"{name}: removed from {store.cache_path(name)}")
        else:
            missing.append(name)
    if missing:
        raise click.ClickException(
            f"Not in the model cache: {', '.join(missing)} (see `projectw models list`)."
        )
