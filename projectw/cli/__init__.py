"""The `projectw` command. Bare `projectw` runs `projectw serve`."""

from __future__ import annotations

from typing import Any

import click

from projectw import __version__
from projectw.errors import ProjectWError


class _Group(click.Group):
    """A group with a default command that turns Project-W errors into one-line messages."""

    default_command = "serve"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "--version")):
            args.insert(0, self.default_command)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProjectWError as exc:
            raise click.ClickException(exc.detail) from None


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="projectw")
def cli() -> None:
    """Project-W: self-hosted transcription. Without a command, runs `serve`."""


def _register() -> None:
    from projectw.cli import admin, db, info, models, runner, serve

    cli.add_command(serve.serve)
    cli.add_command(info.paths)
    cli.add_command(info.config)
    cli.add_command(db.db)
    cli.add_command(admin.admin)
    cli.add_command(runner.runner)
    cli.add_command(models.models)


_register()


def main() -> None:
    cli(prog_name="projectw")
