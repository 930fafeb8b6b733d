"""`projectw runner` on a GPU box loads no server stack (no web framework, no database)."""

from __future__ import annotations

import json
import subprocess
import sys

# What the `projectw runner` command loads: the CLI (with the settings loader) and the runner.
_PROBE = """
import json, sys
from projectw.cli import cli
from projectw.cli import runner as command
from projectw.runner import client, config, host, loop
from projectw.runner.engines import create_engine
create_engine("dummy", {})
print(json.dumps(sorted(sys.modules)))
"""

SERVER_STACK = (
    "fastapi",
    "starlette",
    "uvicorn",
    "asyncpg",
    "aiosqlite",
    "alembic",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "projectw.db",
    "projectw.api",
    "projectw.jobs",
    "projectw.auth",
    "projectw.state",
    "projectw.runtime",
    "projectw.app",
    "projectw.server",
)


def test_the_runner_command_loads_no_server_stack() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout.splitlines()[-1])
    loaded = [m for m in modules if any(m == s or m.startswith(s + ".") for s in SERVER_STACK)]
    assert loaded == []
