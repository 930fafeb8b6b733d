"""The `projectw` command: sub-commands, and one-line errors without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from projectw import __version__
from projectw.cli import cli


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m projectw` as a real process."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "projectw", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_paths_follow_data_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["paths", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.output.splitlines() if line.strip())
    assert lines["data"] == str(tmp_path / "d")
    assert lines["cache"] == str(tmp_path / "d" / "cache")
    assert lines["logs"] == str(tmp_path / "d" / "logs")
    assert "config" in lines


def test_config_show_masks_secrets_and_names_sources(tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text(
        "secret_key: 'k3Y-9f8a7s6d5f4g3h2j1k0lqwertyuiopZX'\n"
        "database_url: 'postgresql://app:hunter2hunter2@db:5432/pw'\n"
    )
    result = CliRunner().invoke(
        cli, ["config", "show", "--config", str(config)], env={"PROJECTW_PORT": "6001"}
    )
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert "k3Y-9f8a" not in result.output
    assert "secret_key = ********  [file]" in result.output
    assert "database_url = postgresql+asyncpg://app:********@db:5432/pw  [file]" in result.output
    assert "port = 6001  [env]" in result.output
    assert "host = 127.0.0.1  [default]" in result.output


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    runner = CliRunner()
    before = runner.invoke(cli, ["db", "current", "--data-dir", str(tmp_path)])
    assert before.exit_code == 0, before.output
    assert "current: (empty)" in before.output
    upgraded = runner.invoke(cli, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert upgraded.exit_code == 0, upgraded.output
    after = runner.invoke(cli, ["db", "current", "--data-dir", str(tmp_path)])
    assert "up to date" in after.output


@pytest.mark.parametrize(
    ("args", "env_extra", "expected"),
    [
        (["config", "show"], {"PROJECTW_COLOUR": "blue"}, "unknown setting in environment"),
        (["db", "upgrade"], {"PROJECTW_DATABASE_URL": "mysql://a@b/c"}, "unsupported database"),
        (["serve", "--port", "0"], {"PROJECTW_DATABASE_URL": "::"}, "not a valid database URL"),
        (
            ["serve", "--port", "0"],
            {"PROJECTW_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none"},
            "cannot reach the PostgreSQL database none at 127.0.0.1:1",
        ),
        (["serve", "--port", "0", "--config", "/nonexistent/c.yml"], {}, "does not exist"),
        (
            ["serve", "--port", "0"],
            {"PROJECTW_REDIS_URL": "redis://127.0.0.1:6379/0"},
            "redis_url is set, but this version keeps state in memory only",
        ),
    ],
)
def test_user_errors_are_one_line_without_traceback(
    tmp_path: Path, args: list[str], env_extra: dict[str, str], expected: str
) -> None:
    env = {"PROJECTW_DATA_DIR": str(tmp_path / "data"), **env_extra}
    result = run_cli(*args, env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.stderr
    assert expected in error_lines[0]


def test_unwritable_data_dir_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_cli("serve", "--port", "0", "--data-dir", str(blocker / "data"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"Error: the data dir {blocker / 'data'} is not writable" in result.stderr


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"Error: cannot listen on 127.0.0.1:{port}" in result.stderr
