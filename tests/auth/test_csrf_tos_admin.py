"""CSRF defence for cookie sign-in, terms of service, and administrators managing accounts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from projectw.api.deps import AdminUser, SubmittingUser
from tests.auth.conftest import CSRF, TERMS, Inbox, auth_settings, bearer, running
from tests.conftest import TEST_PASSWORD, Account, create_account

# --- CSRF --------------------------------------------------------------------------------------


async def cookie_client(client: httpx.AsyncClient, account: Account) -> httpx.AsyncClient:
    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert client.cookies.get("projectw_session")
    return client


async def test_cookie_requests_that_change_state_need_the_header(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    await cookie_client(client, user_account)
    assert (await client.get("/api/users/me")).status_code == 200, "reads need no header"
    body = {"name": "x"}
    refused = await client.post("/api/users/me/tokens", json=body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_header_missing"
    allowed = await client.post("/api/users/me/tokens", json=body, headers=CSRF)
    assert allowed.status_code == 201


async def test_cookie_requests_from_another_origin_are_refused(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    await cookie_client(client, user_account)
    evil = {**CSRF, "Origin": "https://evil.example"}
    refused = await client.post("/api/users/me/tokens", json={"name": "x"}, headers=evil)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_origin_mismatch"
    by_referer = {**CSRF, "Referer": "https://evil.example/page"}
    refused = await client.post("/api/users/me/tokens", json={"name": "x"}, headers=by_referer)
    assert refused.status_code == 403
    own = {**CSRF, "Origin": "http://testserver"}
    assert (
        await client.post("/api/users/me/tokens", json={"name": "x"}, headers=own)
    ).status_code == 201
    public = {**CSRF, "Origin": "http://127.0.0.1:5000"}  # settings.base_url()
    assert (
        await client.post("/api/users/me/tokens", json={"name": "y"}, headers=public)
    ).status_code == 201


async def test_bearer_requests_need_no_csrf_header(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    response = await client.post(
        "/api/users/me/tokens",
        json={"name": "x"},
        headers={**bearer(user_account.token), "Origin": "https://elsewhere.example"},
    )
    assert response.status_code == 201


async def test_sign_in_from_another_site_is_refused(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    response = await client.post(
        "/api/auth/login",
        json={"email": user_account.email, "password": TEST_PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_origin_mismatch"


async def test_a_stale_cookie_does_not_block_signing_in(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    client.cookies.set("projectw_session", "long-gone-session")
    response = await client.post(
        "/api/auth/login", json={"email": user_account.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200


# --- terms of service and who may submit ---------------------------------------------------


def add_probe_routes(app: FastAPI) -> None:
    """Routes that only check the dependency aliases (the jobs routes use the same ones)."""
    router = APIRouter()

    @router.post("/probe/submit")
    async def submit(user: SubmittingUser) -> dict[str, int]:
        return {"user": user.id}

    @router.get("/probe/admin")
    async def admin(user: AdminUser) -> dict[str, int]:
        return {"user": user.id}

    app.include_router(router)


async def test_terms_must_be_accepted_in_their_current_version(
    tmp_path: Path, database_url: str, inbox: Inbox
) -> None:
    first = auth_settings(tmp_path, database_url, inbox)
    async with running(first) as (app, client):
        add_probe_routes(app)
        account = await create_account(app, accept_tos=False)
        headers = bearer(account.token)
        listed = (await client.get("/api/tos", headers=headers)).json()
        assert listed["count"] == 1
        assert listed["items"][0] == {**TERMS, "accepted_version": None}
        anonymous = (await client.get("/api/tos")).json()
        assert anonymous["items"][0]["text"] == "Be kind."

        blocked = await client.post("/probe/submit", headers=headers)
        assert blocked.status_code == 403
        assert blocked.json()["code"] == "tos_not_accepted"
        assert "Terms of service" in blocked.json()["detail"]
        accepted = await client.post(
            "/api/users/me/accept-tos", json={"tos_id": "terms", "version": 1}, headers=headers
        )
        assert accepted.status_code == 200
        assert accepted.json()["can_submit"] is True
        assert (await client.post("/probe/submit", headers=headers)).status_code == 200
        unknown = await client.post(
            "/api/users/me/accept-tos", json={"tos_id": "nope", "version": 1}, headers=headers
        )
        assert unknown.status_code == 404

    raised = first.model_copy(update={"tos": [first.tos[0].model_copy(update={"version": 2})]})
    async with running(raised) as (app, client):
        add_probe_routes(app)
        again = await client.post("/probe/submit", headers=headers)
        assert again.status_code == 403, "a new version asks everyone again"
        me = (await client.get("/api/users/me", headers=headers)).json()
        assert me["pending_tos"] == ["terms"]
        old = await client.post(
            "/api/users/me/accept-tos", json={"tos_id": "terms", "version": 1}, headers=headers
        )
        assert old.status_code == 409
        assert old.json()["code"] == "tos_version_outdated"
        new = await client.post(
            "/api/users/me/accept-tos", json={"tos_id": "terms", "version": 2}, headers=headers
        )
        assert new.status_code == 200
        assert (await client.post("/probe/submit", headers=headers)).status_code == 200


async def test_unverified_users_cannot_submit_when_verification_is_required(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    add_probe_routes(app)
    account = await create_account(app, verified=False)
    response = await client.post("/probe/submit", headers=bearer(account.token))
    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    me = (await client.get("/api/users/me", headers=bearer(account.token))).json()
    assert (me["verification_required"], me["can_submit"]) == (True, False)


async def test_terms_from_a_file(tmp_path: Path, database_url: str) -> None:
    document = tmp_path / "privacy.md"
    document.write_text("# Privacy\nWe keep little.", encoding="utf-8")
    settings = auth_settings(
        tmp_path,
        database_url,
        None,
        tos=[{"id": "privacy", "name": "Privacy", "version": 3, "file": str(document)}],
    )
    async with running(settings) as (_app, client):
        items = (await client.get("/api/tos")).json()["items"]
    assert items[0]["text"].startswith("# Privacy") and items[0]["version"] == 3


# --- administrators ----------------------------------------------------------------------------


@pytest.mark.usefixtures("user_account")
async def test_admin_lists_and_searches_users(
    admin_client: httpx.AsyncClient, other_user_account: Account
) -> None:
    page = (await admin_client.get("/api/admin/users", params={"limit": 2})).json()
    assert page["count"] == 3 and len(page["items"]) == 2
    rest = (await admin_client.get("/api/admin/users", params={"offset": 2})).json()
    assert len(rest["items"]) == 1
    found = (await admin_client.get("/api/admin/users", params={"q": "bob"})).json()
    assert [item["id"] for item in found["items"]] == [other_user_account.id]
    assert found["count"] == 1


async def test_admin_creates_changes_and_deletes_users(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, admin_account: Account
) -> None:
    created = await admin_client.post(
        "/api/admin/users",
        json={"email": "Carol@Example.org", "password": TEST_PASSWORD, "display_name": "Carol"},
    )
    assert created.status_code == 201
    carol = created.json()
    assert (carol["email"], carol["is_admin"], carol["email_verified"]) == (
        "carol@example.org",
        False,
        True,
    )
    duplicate = await admin_client.post(
        "/api/admin/users", json={"email": "carol@example.org", "password": TEST_PASSWORD}
    )
    assert duplicate.status_code == 409

    login = await client.post(
        "/api/auth/login", json={"email": "carol@example.org", "password": TEST_PASSWORD}
    )
    carol_token = login.json()["token"]
    client.cookies.clear()
    new_password = await admin_client.patch(
        f"/api/admin/users/{carol['id']}",
        json={"password": "set by the admin 123", "display_name": ""},
    )
    assert new_password.status_code == 200
    assert new_password.json()["display_name"] is None
    assert (await client.get("/api/users/me", headers=bearer(carol_token))).status_code == 401
    relogin = await client.post(
        "/api/auth/login", json={"email": "carol@example.org", "password": "set by the admin 123"}
    )
    assert relogin.status_code == 200

    granted = await admin_client.patch(f"/api/admin/users/{carol['id']}", json={"is_admin": True})
    assert granted.json()["is_admin"] is True
    disabled = await admin_client.patch(
        f"/api/admin/users/{carol['id']}", json={"is_active": False}
    )
    assert disabled.json()["is_active"] is False
    enabled = await admin_client.patch(f"/api/admin/users/{carol['id']}", json={"is_active": True})
    assert enabled.json()["is_active"] is True

    assert (await admin_client.delete(f"/api/admin/users/{carol['id']}")).status_code == 204
    assert (await admin_client.delete(f"/api/admin/users/{carol['id']}")).status_code == 404
    assert (await admin_client.patch("/api/admin/users/999999", json={})).status_code == 404

    last = await admin_client.patch(
        f"/api/admin/users/{admin_account.id}", json={"is_admin": False}
    )
    assert last.status_code == 409
    assert last.json()["code"] == "last_admin"
    assert (await admin_client.delete(f"/api/admin/users/{admin_account.id}")).status_code == 409


# --- without SMTP ------------------------------------------------------------------------------


async def test_without_smtp_mail_features_say_so(tmp_path: Path, database_url: str) -> None:
    settings = auth_settings(tmp_path, database_url, None)
    async with running(settings) as (app, client):
        signup = await client.post(
            "/api/auth/signup", json={"email": "new@example.org", "password": TEST_PASSWORD}
        )
        assert signup.status_code == 201
        assert signup.json()["verification_sent"] is False
        assert signup.json()["user"]["can_submit"] is False, "terms still to accept"
        assert signup.json()["user"]["verification_required"] is False
        token = signup.json()["token"]
        client.cookies.clear()

        admin = await create_account(app, admin=True)
        attempts = [
            await client.post(
                "/api/auth/request-password-reset", json={"email": "new@example.org"}
            ),
            await client.post("/api/auth/resend-verification", headers=bearer(token)),
            await client.patch(
                "/api/users/me",
                json={"email": "other@example.org", "current_password": TEST_PASSWORD},
                headers=bearer(token),
            ),
            await client.post(
                "/api/admin/users", json={"email": "x@example.org"}, headers=bearer(admin.token)
            ),
        ]
        for response in attempts:
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "mail_not_configured"
            assert "SMTP is not configured" in response.json()["detail"]

        me = (await client.get("/api/users/me", headers=bearer(token))).json()
        reset = await client.patch(
            f"/api/admin/users/{me['id']}",
            json={"password": "reset by the admin"},
            headers=bearer(admin.token),
        )
        assert reset.status_code == 200, "admins reset passwords through the API"
