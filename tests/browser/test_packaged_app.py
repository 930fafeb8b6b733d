"""An installed wheel carries the web app and serves it without the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.process]

_SERVE_ROOT = """
import asyncio, httpx
from asgi_lifespan import LifespanManager
from projectw.api.frontend import find_frontend_dir
from projectw.app import create_app
from projectw.config import Settings

async def main():
    app = create_app(Settings(data_dir={data_dir!r}, runner={{"embedded": False}}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
            page = await http.get("/")
            print(find_frontend_dir())
            print(page.status_code, page.headers["content-security-policy"][:18])

asyncio.run(main())
"""


def test_the_wheel_serves_its_own_copy_of_the_web_app(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps"]
        + ["-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("projectw-*.whl"))
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    assert (installed / "projectw" / "_frontend" / "index.html").is_file()

    environment = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    environment["PYTHONPATH"] = str(installed)
    script = _SERVE_ROOT.format(data_dir=str(tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
    )
    located, answer = result.stdout.strip().splitlines()[-2:]
    assert Path(located) == installed / "projectw" / "_frontend"
    assert answer == "200 default-src 'self'"
