"""What the browser tests share: a real server with mail, Chromium, axe-core and screenshots."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.auth.conftest import Inbox
from tests.serving import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"wide": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "correct horse battery staple"
TERMS = {"id": "terms", "name": "Terms of service", "version": 1, "text": "Be kind to the server."}
SETUP_LINE = re.compile(r"(http://\S+/#/setup\?token=\S+)")
LINK = re.compile(r"(http://\S+?/#/[a-z-]+\?token=[A-Za-z0-9_-]+)")

# Records Content-Security-Policy violations so a test can prove the page needed nothing more.
_CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def write_config(folder: Path, inbox: Inbox, **overrides: Any) -> Path:
    """A config file: open sign-up, one terms document, the test mail server, fast hashing."""
    runner: dict[str, Any] = {"embedded": True, "engine": "dummy", "heartbeat_seconds": 0.5}
    runner.update(overrides.pop("runner", {}))
    config: dict[str, Any] = {
        "auth": {"signup": "open", "fast_password_hashing_for_tests": True},
        "smtp": inbox.smtp_settings(),
        "tos": [TERMS],
        "runner": runner,
        **overrides,
    }
    path = folder / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


class Server:
    """A `projectw serve` process with its URL and the setup link it printed."""

    def __init__(self, process: ServerProcess) -> None:
        self.process = process
        self.url = process.wait_ready()

    def setup_link(self, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.process.stdout:
                match = SETUP_LINE.search(line)
                if match:
                    return match.group(1)
            time.sleep(0.05)
        raise AssertionError("no setup link printed:\n" + "\n".join(self.process.stdout))


def wait_for_mail(inbox: Inbox, recipient: str, timeout: float = 30) -> str:
    """The text of the first message to ``recipient`` (removed from the inbox)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for received in list(inbox.messages):
            if recipient in received.recipients:
                inbox.messages.remove(received)
                return received.text
        time.sleep(0.05)
    raise AssertionError(f"no mail to {recipient} within {timeout} s")


def link_in(text: str, page_name: str) -> str:
    for match in LINK.finditer(text):
        if f"/#/{page_name}?" in match.group(1):
            return match.group(1)
    raise AssertionError(f"no link to {page_name} in:\n{text}")


@contextmanager
def new_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=VIEWPORTS["wide"], accept_downloads=True)
    context.add_init_script(_CSP_RECORDER)
    # Injected through the DevTools protocol, which the page's policy does not govern.
    context.add_init_script(path=str(AXE))
    try:
        yield context
    finally:
        context.close()


def check_page(page: Page, screen: str) -> None:
    """The screen has no serious accessibility fault and no policy violation; photograph it."""
    page.wait_for_load_state("networkidle")
    assert_accessible(page, screen)
    assert_no_csp_violations(page)
    screenshots(page, screen)


def assert_accessible(page: Page, screen: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(100)
        result = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        serious = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, f"{screen} ({scheme}): " + json.dumps(serious, indent=1)
    page.emulate_media(color_scheme="light")


def assert_no_csp_violations(page: Page) -> None:
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], violations


def screenshots(page: Page, screen: str) -> None:
    """The screen at a wide and a phone size, light and dark, into artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(150)
            page.screenshot(path=str(SCREENSHOTS / f"{screen}-{size}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    if original:
        page.set_viewport_size(original)


def sign_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/#/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def accept_terms(page: Page) -> None:
    expect(page.get_by_role("heading", name="Terms of service", level=1)).to_be_visible()
    page.get_by_label("I accept “Terms of service”").check()
    page.get_by_role("button", name="Accept and continue").click()
    expect(page.get_by_role("heading", name="New transcription")).to_be_visible()


def create_first_admin(page: Page, server: Server) -> None:
    """Use the setup link, then accept the terms: the jobs page is shown."""
    page.goto(server.setup_link())
    page.get_by_label("E-mail").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()
    accept_terms(page)
