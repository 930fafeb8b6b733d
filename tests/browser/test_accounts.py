"""Accounts in a browser: sign-up with e-mail confirmation, password reset, expired sessions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.auth.conftest import Inbox
from tests.browser.conftest import ServerFactory
from tests.browser.harness import (
    PASSWORD,
    accept_terms,
    check_page,
    link_in,
    sign_in,
    wait_for_mail,
)

pytestmark = [pytest.mark.browser, pytest.mark.process]

NEW_PASSWORD = "a different long passphrase"


def test_sign_up_confirm_email_then_reset_the_password(
    page: Page, start_server: ServerFactory, mail: Inbox
) -> None:
    server = start_server(runner={"embedded": False})
    page.goto(f"{server.url}/#/signup")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    check_page(page, "signup")
    page.get_by_label("E-mail").fill("grace@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Signed in at once; the banner asks to confirm the address, the terms come first.
    accept_terms(page)
    banner = page.get_by_role("region", name="E-mail confirmation")
    expect(banner).to_contain_text("grace@example.org")

    page.goto(link_in(wait_for_mail(mail, "grace@example.org"), "verify-email"))
    expect(page.get_by_test_id("verify-done")).to_be_visible()
    check_page(page, "verify-email")
    page.get_by_role("link", name="Go to your jobs").click()
    expect(page.get_by_role("heading", name="New transcription")).to_be_visible()
    expect(banner).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_page(page, "login")
    page.get_by_role("link", name="Forgot your password?").click()
    check_page(page, "forgot-password")
    page.get_by_label("E-mail").fill("grace@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_test_id("reset-sent")).to_be_visible()

    page.goto(link_in(wait_for_mail(mail, "grace@example.org"), "reset-password"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    check_page(page, "reset-password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_test_id("toast-success")).to_contain_text("password")

    # The old password no longer works; the server's sentence is shown.
    page.get_by_label("E-mail").fill("grace@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("toast-error")).to_be_visible()
    sign_in(page, server.url, "grace@example.org", NEW_PASSWORD)

    # A used link is refused with a clear sentence.
    page.goto(f"{server.url}/#/verify-email?token=used-or-wrong")
    expect(page.get_by_role("alert")).not_to_be_empty()


def test_an_expired_session_leads_to_sign_in_and_back(
    page: Page, start_server: ServerFactory
) -> None:
    server = start_server(runner={"embedded": False})
    page.goto(f"{server.url}/#/signup")
    page.get_by_label("E-mail").fill("alan@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    accept_terms(page)

    page.context.clear_cookies()
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/login\?next=%2Faccount$"))
    page.get_by_label("E-mail").fill("alan@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/account$"))

    # An API token is shown once, then listed by name only, and can be revoked.
    page.get_by_label("Token name").fill("backup script")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").input_value()
    assert len(token) >= 20
    me = page.request.get(
        f"{server.url}/api/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.json()["email"] == "alan@example.org"
    page.get_by_role("button", name="Done").click()
    tokens = page.get_by_test_id("tokens")
    expect(tokens).to_contain_text("backup script")
    assert token not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke token backup script").click()
    expect(tokens).to_contain_text("No tokens yet.")
    revoked = page.request.get(
        f"{server.url}/api/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert revoked.status == 401

    # The theme follows the system until chosen; the choice survives a reload.
    page.emulate_media(color_scheme="light")
    html = page.locator("html")
    expect(html).not_to_have_class(re.compile(r"\bdark\b"))
    page.get_by_test_id("theme-toggle").click()  # system → light
    page.get_by_test_id("theme-toggle").click()  # light → dark
    expect(html).to_have_class(re.compile(r"\bdark\b"))
    page.reload()
    expect(html).to_have_class(re.compile(r"\bdark\b"))
    expect(page.get_by_test_id("theme-toggle")).to_have_attribute("aria-label", re.compile("Dark"))


def test_api_docs_work_under_their_policy(page: Page, start_server: ServerFactory) -> None:
    server = start_server(runner={"embedded": False})
    page.goto(f"{server.url}/#/no/such/page")
    expect(page.get_by_role("heading", name="There is no such page")).to_be_visible()
    page.goto(f"{server.url}/docs")
    # Swagger's inline start-up script ran (it renders into #swagger-ui) and nothing was blocked.
    expect(page.locator("#swagger-ui .swagger-ui")).to_be_attached()
    # The schema (OpenAPI 3.1) is rendered: operations are listed, no parser error is shown.
    expect(page.get_by_text("/api/about").first).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    assert page.evaluate("window.__cspViolations") == []
