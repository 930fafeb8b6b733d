"""Uploads in a browser: many files at once, each with its own progress, cancellable; drop."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ServerFactory
from tests.browser.harness import create_first_admin
from tests.media import MediaFactory

pytestmark = [pytest.mark.browser, pytest.mark.process]


def tone(path: Path, seconds: int) -> Path:
    """A plain WAV tone, big enough for an upload to take a while on a slow link."""
    subprocess.run(
        [
            *("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"),
            *("-i", f"sine=frequency=440:duration={seconds}", "-ar", "16000", str(path)),
        ],
        check=True,
    )
    return path


def test_each_upload_has_its_own_progress_and_can_be_cancelled(
    page: Page, start_server: ServerFactory, tmp_path: Path
) -> None:
    server = start_server(runner={"embedded": False})
    create_first_admin(page, server)

    slow = tone(tmp_path / "long-tone.wav", 120)
    quick = MediaFactory(tmp_path / "media").speech("Short and sweet.", "wav")
    # A slow link (Chromium's own network emulation) keeps the big upload in flight.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 256_000},
    )
    # The file picker opens from the keyboard.
    choose = page.get_by_role("button", name="Choose files…")
    expect(choose).to_be_enabled()
    choose.focus()
    expect(choose).to_be_focused()
    with page.expect_file_chooser() as chooser:
        choose.press("Enter")
    chooser.value.set_files([str(slow), str(quick)])

    uploads = page.get_by_test_id("upload")
    expect(uploads).to_have_count(2)
    big = uploads.filter(has_text=slow.name)
    small = uploads.filter(has_text=quick.name)
    expect(small.get_by_test_id("upload-state")).to_have_text("Uploaded", timeout=60_000)
    expect(big.get_by_role("progressbar")).not_to_have_attribute("aria-valuenow", "100")
    big.get_by_role("button", name=f"Cancel upload of {slow.name}").click()
    expect(big.get_by_test_id("upload-state")).to_have_text("Cancelled")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    # Only the finished upload became a job.
    rows = page.get_by_test_id("job-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(quick.name)
    assert page.request.get(f"{server.url}/api/jobs").json()["total"] == 1

    # A file dropped anywhere on the page is uploaded too.
    dropped = MediaFactory(tmp_path / "media").speech("Dropped on the page.", "wav")
    payload = base64.b64encode(dropped.read_bytes()).decode()
    page.evaluate(
        """([name, payload]) => {
            const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], name, { type: 'audio/wav' }));
            const target = document.querySelector('h2');
            for (const type of ['dragenter', 'dragover', 'drop']) {
                target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true }));
            }
        }""",
        [dropped.name, payload],
    )
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(dropped.name)

    # Many at once: abort both queued jobs, then delete them.
    page.get_by_label("Select all jobs on this page").check()
    page.get_by_role("region", name="Selected jobs").get_by_role("button", name="Abort").click()
    statuses = page.get_by_test_id("job-status")
    expect(statuses.nth(0)).to_have_attribute("data-status", "aborted")
    expect(statuses.nth(1)).to_have_attribute("data-status", "aborted")
    page.get_by_label("Select all jobs on this page").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("region", name="Selected jobs").get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(0)
    assert page.request.get(f"{server.url}/api/jobs").json()["total"] == 0
