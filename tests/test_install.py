"""The README's install command works: `pipx install .` then `projectw` serves."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.serving import ServerProcess

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.process]


def test_wheel_ships_migrations_and_docs_assets(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("projectw-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "projectw/db/migrations/env.py" in names
    assert "projectw/db/migrations/script.py.mako" in names
    assert any(n.startswith("projectw/db/migrations/versions/0001_") for n in names)


def test_pipx_install_then_serve(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    env.update(PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"))
    pipx = Path(sys.executable).parent / "pipx"
    subprocess.run(
        [str(pipx), "install", "--python", sys.executable, str(ROOT)],
        check=True,
        env=env,
        timeout=900,
        capture_output=True,
    )
    command = [str(tmp_path / "bin" / "projectw")]
    with ServerProcess(tmp_path / "data", command=command) as server:
        url = server.wait_ready()
        assert httpx.get(url + "/api/about").json()["name"] == "Project-W"
        assert server.stop() == 0
