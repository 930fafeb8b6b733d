"""Layering (DESIGN.md), checked in fresh interpreters by what each layer loads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    roots = {roots!r}
    failed = []
    for root in roots:
        try:
            package = importlib.import_module(root)
        except ModuleNotFoundError as exc:
            if exc.name == root:
                continue
            raise
        if not hasattr(package, "__path__"):
            continue
        for info in pkgutil.walk_packages(package.__path__, root + "."):
            try:
                importlib.import_module(info.name)
            except ModuleNotFoundError as exc:
                # Optional extras (e.g. whisperx) may be absent; anything else is a bug.
                if exc.name and exc.name.split(".")[0] in {optional!r}:
                    failed.append(info.name)
                    continue
                raise
    print(json.dumps({{"modules": sorted(sys.modules), "skipped": failed}}))
    """
)

OPTIONAL = ["whisperx", "torch", "torchaudio", "pyannote", "redis", "ldap3", "textual"]


def loaded_by(*roots: str) -> set[str]:
    """Every module in sys.modules after importing all modules under ``roots``."""
    code = _PROBE.format(roots=list(roots), optional=OPTIONAL)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1])["modules"])


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


SERVER_ONLY = {
    "projectw.db",
    "projectw.api",
    "projectw.auth",
    "projectw.jobs",
    "projectw.state",
    "projectw.runtime",
    "projectw.app",
    "projectw.server",
}


def _forbidden(modules: set[str], prefixes: set[str]) -> set[str]:
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)}


def test_runner_needs_no_server_stack() -> None:
    modules = loaded_by("projectw.runner", "projectw.protocol")
    assert not _forbidden(modules, SERVER_ONLY)
    assert not {"sqlalchemy", "alembic", "fastapi", "starlette", "asyncpg", "aiosqlite"} & _top(
        modules
    )


def test_services_import_no_web_framework() -> None:
    modules = loaded_by(
        "projectw.db",
        "projectw.jobs",
        "projectw.state",
        "projectw.auth",
        "projectw.transcripts",
        "projectw.runtime",
    )
    assert not {"fastapi", "starlette"} & _top(modules)
    assert not _forbidden(modules, {"projectw.api", "projectw.app", "projectw.cli"})
