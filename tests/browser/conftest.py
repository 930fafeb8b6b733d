"""Fixtures of the browser tests: Debian's Chromium, a mail server, `projectw serve` processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.auth.conftest import Inbox, mail_server
from tests.browser.harness import AXE, CHROMIUM, CHROMIUM_ARGS, Server, new_context, write_config
from tests.serving import ServerProcess


# Module scope: Playwright's sync API keeps an event loop running while it is open, which the
# asyncio tests of other modules must not find.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert AXE.is_file(), f"{AXE} is missing: run `npm ci` in frontend/ first"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_context(browser) as context:
        yield context.new_page()


@pytest.fixture
def mail() -> Iterator[Inbox]:
    with mail_server() as inbox:
        yield inbox


ServerFactory = Callable[..., Server]


@pytest.fixture
def start_server(tmp_path: Path, mail: Inbox) -> Iterator[ServerFactory]:
    """Start a real server (config overrides as keyword arguments); stopped after the test."""
    processes: list[ServerProcess] = []

    def start(**overrides: Any) -> Server:
        folder = tmp_path / f"server-{len(processes)}"
        folder.mkdir()
        config = write_config(folder, mail, **overrides)
        embedded = overrides.get("runner", {}).get("embedded", True)
        process = ServerProcess(
            folder / "data", "--config", str(config), embedded_runner=embedded
        ).__enter__()
        processes.append(process)
        return Server(process)

    yield start
    for process in processes:
        process.stop()
        process.__exit__(None, None, None)
