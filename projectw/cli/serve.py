"""`projectw serve`: run the server (and, by default, the embedded runner)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from projectw.cli.options import load, settings_options


@click.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default 5000; 0 = any free).")
@click.option("--open", "open_browser", is_flag=True, help="Open the web app in a browser.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-format", type=click.Choice(["text", "json"]))
@settings_options
def serve(
    host: str | None,
    port: int | None,
    open_browser: bool,
    log_level: str | None,
    log_format: str | None,
    config_file: Path | None,
    data_dir: Path | None,
) -> None:
    """Start the server."""
    from projectw.server import serve as run_server

    loaded = load(
        config_file, data_dir, host=host, port=port, log_level=log_level, log_format=log_format
    )

    def announce(url: str) -> None:
        click.echo(f"Project-W is running at {url}", err=False)

    def announce_setup(url: str) -> None:
        hours = loaded.settings.auth.setup_link_hours
        click.echo(
            "No accounts yet. Create the first admin account with this link "
            f"(works once, for {hours:g} hours):\n  {url}"
        )

    asyncio.run(
        run_server(
            loaded.settings, announce, open_browser=open_browser, announce_setup=announce_setup
        )
    )
