"""`projectw runner`: take transcription jobs from a Project-W server.

Only the settings loader is imported from the server side (for the config file's ``runner``
section); the runner itself needs no database stack.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click

from projectw.cli.options import load, settings_options

log = logging.getLogger(__name__)


@click.command()
@click.option("--url", envvar="PROJECTW_RUNNER_URL", help="Server URL (env PROJECTW_RUNNER_URL).")
@click.option(
    "--token",
    envvar="PROJECTW_RUNNER_TOKEN",
    help="Runner token from `projectw admin create-runner-token` (env PROJECTW_RUNNER_TOKEN).",
)
@click.option("--engine", help="Engine: dummy, faster-whisper, whisperx or module:factory.")
@click.option("--name", help="Name shown to admins (default: the host name).")
@click.option("--priority", type=click.IntRange(min=1), help="Higher gets work first.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-format", type=click.Choice(["text", "json"]))
@settings_options
def runner(
    url: str | None,
    token: str | None,
    engine: str | None,
    name: str | None,
    priority: int | None,
    log_level: str | None,
    log_format: str | None,
    config_file: Path | None,
    data_dir: Path | None,
) -> None:
    """Run a transcription runner for a Project-W server."""
    from projectw.runner.config import runner_config
    from projectw.runner.host import EngineUnavailable
    from projectw.runner.loop import Runner

    section = {
        key: value
        for key, value in {"engine": engine, "name": name, "priority": priority}.items()
        if value is not None
    }
    overrides: dict[str, object] = {"log_level": log_level, "log_format": log_format}
    if section:
        overrides["runner"] = section
    settings = load(config_file, data_dir, **overrides).settings
    server_url = url or settings.runner.server_url
    secret = token or (settings.runner.token.get_secret_value() if settings.runner.token else None)
    if not server_url:
        raise click.UsageError("Give the server's URL with --url (or PROJECTW_RUNNER_URL).")
    if not secret:
        raise click.UsageError("Give the runner token with --token (or PROJECTW_RUNNER_TOKEN).")
    config = runner_config(settings, server_url=server_url, token=secret)
    worker = Runner(config)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        signals = 0

        def on_signal() -> None:
            nonlocal signals
            signals += 1
            # The first signal drains (finish or hand back the job); a second one hurries.
            worker.stop(grace=None if signals == 1 else 0)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        await worker.run()

    try:
        asyncio.run(main())
    except EngineUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        from projectw.runner.client import TokenRejected

        if isinstance(exc, TokenRejected):
            raise click.ClickException(
                f"The server refused the runner token: {exc.detail}"
            ) from None
        raise
