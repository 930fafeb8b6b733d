"""`projectw db upgrade|current`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from projectw.cli.options import load, settings_options


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@settings_options
def upgrade(config_file: Path | None, data_dir: Path | None) -> None:
    """Apply all migrations (also done automatically by `serve`)."""
    from projectw.db import migrate
    from projectw.runtime import open_database

    settings = load(config_file, data_dir).settings

    async def run() -> str | None:
        database = await open_database(settings)
        try:
            await migrate.upgrade(database)
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    click.echo(f"Database is at revision {asyncio.run(run())} (head).")


@db.command()
@settings_options
def current(config_file: Path | None, data_dir: Path | None) -> None:
    """Show the database's revision and the one this version needs."""
    from projectw.db import migrate
    from projectw.runtime import open_database

    settings = load(config_file, data_dir).settings

    async def run() -> str | None:
        database = await open_database(settings)
        try:
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    current_revision = asyncio.run(run())
    head = migrate.head_revision()
    state = "up to date" if current_revision == head else "needs `projectw db upgrade`"
    click.echo(f"current: {current_revision or '(empty)'}\nhead:    {head}\n{state}")
