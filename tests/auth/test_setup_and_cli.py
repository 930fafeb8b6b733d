"""First start: the one-time setup link (printed by `projectw serve`), and `projectw admin`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from projectw.auth.setup import setup_link_if_needed
from projectw.db.base import utcnow
from projectw.db.models import LinkToken
from tests.conftest import TEST_PASSWORD, create_account
from tests.serving import ServerProcess

SETUP_LINK = re.compile(r"(http://\S+)/#/setup\?token=([A-Za-z0-9_-]+)")


async def _setup_token(app: FastAPI) -> str:
    runtime = app.state.runtime
    link = await setup_link_if_needed(runtime.db, runtime.settings, runtime.settings.base_url())
    assert link is not None
    match = SETUP_LINK.search(link)
    assert match is not None, link
    return match.group(2)


async def test_setup_link_creates_the_first_admin_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = await _setup_token(app)
    body = {"token": token, "email": "owner@example.org", "password": TEST_PASSWORD}
    created = await client.post("/api/auth/setup", json=body)
    assert created.status_code == 201, created.text
    user = created.json()["user"]
    assert (user["is_admin"], user["email_verified"]) == (True, True)
    assert "projectw_session" in created.headers["set-cookie"]
    assert (await client.get("/api/admin/users")).status_code == 200

    again = await client.post("/api/auth/setup", json={**body, "email": "thief@example.org"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_set_up"
    runtime = app.state.runtime
    assert await setup_link_if_needed(runtime.db, runtime.settings, "http://x") is None


async def test_setup_link_expires(app: FastAPI, client: httpx.AsyncClient) -> None:
    token = await _setup_token(app)
    async with app.state.runtime.db.session() as session:
        await session.execute(update(LinkToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
    response = await client.post(
        "/api/auth/setup",
        json={"token": token, "email": "owner@example.org", "password": TEST_PASSWORD},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "link_expired"


async def test_setup_with_a_made_up_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/setup",
        json={"token": "guess", "email": "owner@example.org", "password": TEST_PASSWORD},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "link_invalid"


async def test_no_setup_link_once_someone_has_an_account(app: FastAPI) -> None:
    await create_account(app)
    runtime = app.state.runtime
    assert await setup_link_if_needed(runtime.db, runtime.settings, "http://x") is None


@pytest.mark.process
def test_serve_prints_a_setup_link_that_works(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server:
        url = server.wait_ready()
        deadline = time.monotonic() + 30
        match = None
        while match is None and time.monotonic() < deadline:
            match = next(filter(None, map(SETUP_LINK.search, server.stdout)), None)
            time.sleep(0.05)
        assert match is not None, server.stdout
        assert match.group(1) == url
        response = httpx.post(
            url + "/api/auth/setup",
            json={
                "token": match.group(2),
                "email": "owner@example.org",
                "password": TEST_PASSWORD,
            },
        )
        assert response.status_code == 201, response.text
        assert server.stop() == 0


def _cli(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    return subprocess.run(
        [sys.executable, "-m", "projectw", "admin", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.mark.process
def test_admin_cli_creates_lists_and_resets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = _cli(
        data,
        "create-user",
        "Boss@Example.org",
        "--admin",
        "--password-stdin",
        stdin=TEST_PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Created admin account boss@example.org" in created.stdout

    short = _cli(data, "create-user", "x@example.org", "--password-stdin", stdin="short\n")
    assert short.returncode == 1
    assert "at least 12 characters" in short.stderr
    assert "Traceback" not in short.stderr

    duplicate = _cli(
        data, "create-user", "boss@example.org", "--password-stdin", stdin=TEST_PASSWORD + "\n"
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    invite = _cli(data, "create-user", "guest@example.org", "--invite")
    assert invite.returncode == 1
    assert "SMTP is not configured" in invite.stderr

    listed = _cli(data, "list-users")
    assert listed.returncode == 0
    assert re.search(r"1\s+boss@example.org\s+yes\s+yes\s+yes", listed.stdout), listed.stdout

    reset = _cli(
        data,
        "reset-password",
        "boss@example.org",
        "--password-stdin",
        stdin="a completely new password\n",
    )
    assert reset.returncode == 0, reset.stderr
    missing = _cli(
        data,
        "reset-password",
        "nobody@example.org",
        "--password-stdin",
        stdin="a completely new password\n",
    )
    assert missing.returncode == 1
    assert "no account" in missing.stderr

    with ServerProcess(data) as server:
        url = server.wait_ready()
        assert not any("setup" in line for line in server.stdout), "no setup link: users exist"
        old = httpx.post(
            url + "/api/auth/login",
            json={"email": "boss@example.org", "password": TEST_PASSWORD},
        )
        assert old.status_code == 401
        new = httpx.post(
            url + "/api/auth/login",
            json={"email": "boss@example.org", "password": "a completely new password"},
        )
        assert new.status_code == 200
        assert new.json()["user"]["is_admin"] is True
