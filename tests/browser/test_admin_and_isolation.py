"""An admin connects a real runner from the browser; users never see each other's jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ServerFactory
from tests.browser.harness import (
    PASSWORD,
    accept_terms,
    check_page,
    create_first_admin,
    new_context,
)
from tests.media import MediaFactory

pytestmark = [pytest.mark.browser, pytest.mark.process]


@pytest.fixture
def runner_processes() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_admin_creates_a_runner_token_and_sees_the_runner_come_online(
    page: Page,
    start_server: ServerFactory,
    tmp_path: Path,
    runner_processes: list[subprocess.Popen[str]],
) -> None:
    server = start_server(runner={"embedded": False})
    create_first_admin(page, server)
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_text("No runners yet.")).to_be_visible()

    page.get_by_label("New runner name").fill("gpu-box-1")
    page.get_by_role("button", name="Create runner token").click()
    token = page.get_by_test_id("runner-token").input_value()
    assert len(token) >= 20
    row = page.get_by_test_id("runner-row").filter(has_text="gpu-box-1")
    expect(row).to_have_attribute("data-online", "false")

    environment = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTW_")}
    runner_processes.append(
        subprocess.Popen(
            [
                *(sys.executable, "-m", "projectw", "runner"),
                *("--url", server.url, "--token", token, "--engine", "dummy"),
                *("--name", "gpu-box-1", "--data-dir", str(tmp_path / "runner")),
            ],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    )
    # The admin page follows runner presence by itself; nobody reloads it.
    expect(row).to_have_attribute("data-online", "true", timeout=60_000)
    expect(row.get_by_test_id("runner-state")).to_have_text("Online")
    expect(page.get_by_test_id("runners-online")).to_have_text("1")
    # The queue at a glance: nothing waits, runs or failed on this new server.
    for card in ("queue-queued", "queue-running", "queue-failed"):
        expect(page.get_by_test_id(card)).to_have_text("0")
    check_page(page, "admin-runner-online")

    # Users: create one, grant and revoke admin, disable, delete.
    page.get_by_label("E-mail", exact=True).fill("bob@example.org")
    page.get_by_label("Password (empty: e-mail an invitation)").fill(PASSWORD)
    page.get_by_role("button", name="Add user").click()
    bob = page.get_by_test_id("user-row").filter(has_text="bob@example.org")
    expect(bob).to_contain_text("User")
    bob.get_by_role("button", name="Make admin bob@example.org").click()
    expect(bob.get_by_role("cell", name="Admin", exact=True)).to_be_visible()
    bob.get_by_role("button", name="Disable bob@example.org").click()
    expect(bob).to_contain_text("disabled")
    page.once("dialog", lambda dialog: dialog.accept())
    bob.get_by_role("button", name="Delete bob@example.org").click()
    expect(bob).to_have_count(0)


def test_another_user_sees_none_of_the_first_users_jobs(
    browser: Browser, page: Page, start_server: ServerFactory, tmp_path: Path
) -> None:
    server = start_server(runner={"embedded": False})
    create_first_admin(page, server)
    recording = MediaFactory(tmp_path / "media").speech("A private recording.", "wav")
    page.locator("#file-picker").set_input_files(str(recording))
    row = page.get_by_test_id("job-row").filter(has_text=recording.name)
    expect(row).to_have_count(1)
    job_id = row.get_attribute("data-job-id")

    with new_context(browser) as other_context:
        other = other_context.new_page()
        other.goto(f"{server.url}/#/signup")
        other.get_by_label("E-mail").fill("eve@example.org")
        other.get_by_label("Password").fill(PASSWORD)
        other.get_by_role("button", name="Create account").click()
        accept_terms(other)
        expect(other.get_by_text("No jobs yet.")).to_be_visible()
        expect(other.get_by_test_id("job-row")).to_have_count(0)
        assert other.request.get(f"{server.url}/api/jobs").json()["total"] == 0

        other.goto(f"{server.url}/#/jobs/{job_id}")
        expect(other.get_by_test_id("toast-error")).to_be_visible()
        expect(other.get_by_test_id("job-missing")).to_be_visible()
        expect(other.get_by_test_id("job-title")).to_have_count(0)
        assert recording.name not in other.content()
        audio = other.request.get(f"{server.url}/api/jobs/{job_id}/audio")
        assert audio.status == 404
