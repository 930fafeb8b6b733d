"""`projectw admin`: manage accounts from the server's machine (works with no account yet)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from projectw.cli.options import load, settings_options
from projectw.config import Settings

if TYPE_CHECKING:
    from projectw.auth.admin import AdminUserService
    from projectw.db.engine import Database

T = TypeVar("T")


@click.group()
def admin() -> None:
    """Manage accounts and runners: create users, reset passwords, list users, runner tokens."""


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    from projectw.db import migrate
    from projectw.runtime import open_database

    database = await open_database(settings)
    try:
        if settings.migrate_on_start:
            await migrate.upgrade(database)
        yield database
    finally:
        await database.dispose()


def _run(settings: Settings, work: Callable[[AdminUserService], Awaitable[T]]) -> T:
    """Run ``work(admin_service)`` against the configured database, then send queued mail."""
    from projectw.auth.admin import AdminUserService
    from projectw.mail import Mailer

    async def main() -> T:
        async with _database(settings) as database:
            mail = Mailer(settings.smtp, database)
            result = await work(AdminUserService(database, settings, mail))
            if mail.configured:
                await mail.deliver_due()
            return result

    return asyncio.run(main())


def _read_password(from_stdin: bool) -> str:
    from projectw.auth.passwords import check_password_rules

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password_rules(password)
    return password


@admin.command("create-user")
@click.argument("email")
@click.option("--admin", "is_admin", is_flag=True, help="Give the account admin rights.")
@click.option("--name", "display_name", help="Display name.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.option(
    "--invite",
    is_flag=True,
    help="Set no password; mail the person a link to choose one (needs SMTP).",
)
@settings_options
def create_user(
    email: str,
    is_admin: bool,
    display_name: str | None,
    password_stdin: bool,
    invite: bool,
    config_file: Path | None,
    data_dir: Path | None,
) -> None:
    """Create an account with a confirmed address (the password is asked for)."""
    settings = load(config_file, data_dir).settings
    if invite and not settings.smtp.configured:
        raise click.ClickException(
            "SMTP is not configured, so no invitation can be mailed; set smtp.host and "
            "smtp.sender, or leave out --invite and give a password."
        )
    password = None if invite else _read_password(password_stdin)
    user, invited = _run(
        settings,
        lambda users: users.create_user(
            email,
            password=password,
            display_name=display_name,
            is_admin=is_admin,
            from_cli=True,
        ),
    )
    kind = "admin account" if is_admin else "account"
    click.echo(f"Created {kind} {user.email} (id {user.id}).")
    if invited:
        click.echo(f"An invitation to choose a password was mailed to {user.email}.")


@admin.command("reset-password")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@settings_options
def reset_password(
    email: str, password_stdin: bool, config_file: Path | None, data_dir: Path | None
) -> None:
    """Set a new password for an account; it is signed out everywhere."""
    from projectw.auth.admin import UserChanges
    from projectw.errors import NotFound

    settings = load(config_file, data_dir).settings

    async def change(users: AdminUserService) -> str:
        user = await users.find(email)
        if user is None:
            raise NotFound(f"There is no account with the address {email}.")
        await users.update_user(user.id, UserChanges(password=password))
        return user.email

    password = _read_password(password_stdin)
    changed = _run(settings, change)
    click.echo(f"Password changed for {changed}; all its sessions and API tokens were revoked.")


@admin.command("list-users")
@settings_options
def list_users(config_file: Path | None, data_dir: Path | None) -> None:
    """List every account."""
    from projectw.db.models import User

    settings = load(config_file, data_dir).settings

    async def everyone(users: AdminUserService) -> list[User]:
        page, _count = await users.list_users(limit=1_000_000)
        return page

    rows = _run(settings, everyone)
    if not rows:
        click.echo("No accounts yet.")
        return
    click.echo(f"{'id':>5}  {'e-mail':<40} {'admin':<6} {'active':<7} {'verified':<9} name")
    for user in rows:
        click.echo(
            f"{user.id:>5}  {user.email:<40} {_yes(user.is_admin):<6} {_yes(user.is_active):<7} "
            f"{_yes(user.email_verified_at is not None):<9} {user.display_name or ''}"
        )


def _yes(value: bool) -> str:
    return "yes" if value else "no"


@admin.command("create-runner-token")
@click.option(
    "--name", required=True, help="A name to recognise the runner by (at most 40 characters)."
)
@settings_options
def create_runner_token(name: str, config_file: Path | None, data_dir: Path | None) -> None:
    """Create a token for `projectw runner --token` (or a Project-W 0.6 runner)."""
    from projectw.jobs.queue.registry import create_runner

    if not 1 <= len(name.strip()) <= 40:
        raise click.BadParameter("give 1 to 40 characters", param_hint="--name")
    settings = load(config_file, data_dir).settings

    async def create() -> tuple[int, str]:
        async with _database(settings) as database:
            runner, token = await create_runner(database, name.strip())
            return runner.id, token

    runner_id, token = asyncio.run(create())
    click.echo(f"Created runner {runner_id} ({name.strip()}). Its token, shown only now:", err=True)
    click.echo(token)
