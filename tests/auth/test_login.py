"""Sign-up modes, sign-in (JSON and OAuth2 form), cookie flags, rate limits, password hashing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from projectw.auth.passwords import OWASP_MEMORY_KIB, OWASP_TIME_COST, passwords_for
from projectw.config import AuthSettings
from projectw.db.models import User
from tests.auth.conftest import Inbox, auth_settings, bearer, running
from tests.conftest import TEST_PASSWORD, Account, create_account


def cookie_attributes(response: httpx.Response) -> dict[str, str]:
    header = response.headers["set-cookie"]
    parts = [part.strip() for part in header.split(";")]
    attributes = {"value": parts[0]}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        attributes[name.lower()] = value
    return attributes


async def test_login_with_json_sets_a_safe_cookie(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    response = await client.post(
        "/api/auth/login", json={"email": user_account.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == body["access_token"] and body["token_type"] == "bearer"
    assert body["expires_at"]
    cookie = cookie_attributes(response)
    assert cookie["value"] == f"projectw_session={body['token']}"
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert "secure" not in cookie, "plain HTTP: a Secure cookie would never come back"
    me = await client.get("/api/users/me")
    assert me.status_code == 200, "the cookie alone signs the client in"
    assert me.json()["id"] == user_account.id


async def test_cookie_is_secure_over_https(app: FastAPI, user_account: Account) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as https:
        response = await https.post(
            "/api/auth/login", json={"email": user_account.email, "password": TEST_PASSWORD}
        )
    assert response.status_code == 200
    assert "secure" in cookie_attributes(response)


async def test_login_with_the_oauth2_form(client: httpx.AsyncClient, user_account: Account) -> None:
    response = await client.post(
        "/api/auth/login",
        data={"username": user_account.email.upper(), "password": TEST_PASSWORD},
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = await client.get("/api/users/me", headers=bearer(token))
    assert me.json()["email"] == user_account.email


async def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    wrong = await client.post(
        "/api/auth/login", json={"email": user_account.email, "password": "wrong password!"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@example.org", "password": "wrong password!"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"
    assert "set-cookie" not in wrong.headers


async def test_login_is_rate_limited_per_address(
    tmp_path: Path, database_url: str, inbox: Inbox
) -> None:
    settings = auth_settings(
        tmp_path, database_url, inbox, auth={"rate_limits": {"login_per_address": 3}}
    )
    async with running(settings) as (app, client):
        account = await create_account(app)
        for _ in range(3):
            response = await client.post(
                "/api/auth/login", json={"email": account.email, "password": "wrong password"}
            )
            assert response.status_code == 401
        limited = await client.post(
            "/api/auth/login", json={"email": account.email, "password": TEST_PASSWORD}
        )
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 900


async def test_failed_logins_lock_the_account_for_the_window(
    tmp_path: Path, database_url: str, inbox: Inbox
) -> None:
    settings = auth_settings(
        tmp_path, database_url, inbox, auth={"rate_limits": {"login_failures_per_account": 2}}
    )
    async with running(settings) as (app, client):
        account = await create_account(app)
        other = await create_account(app)
        for _ in range(2):
            response = await client.post(
                "/api/auth/login", json={"email": account.email, "password": "wrong password"}
            )
            assert response.status_code == 401
        locked = await client.post(
            "/api/auth/login", json={"email": account.email, "password": TEST_PASSWORD}
        )
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) >= 1
        fine = await client.post(
            "/api/auth/login", json={"email": other.email, "password": TEST_PASSWORD}
        )
        assert fine.status_code == 200, "other accounts are not affected"


async def test_signup_and_mail_requests_are_rate_limited(
    tmp_path: Path, database_url: str, inbox: Inbox
) -> None:
    settings = auth_settings(
        tmp_path,
        database_url,
        inbox,
        auth={
            "signup": "open",
            "rate_limits": {"signup_per_address": 1, "mail_requests_per_account": 1},
        },
    )
    async with running(settings) as (_app, client):
        first = await client.post(
            "/api/auth/signup", json={"email": "one@example.org", "password": TEST_PASSWORD}
        )
        assert first.status_code == 201
        second = await client.post(
            "/api/auth/signup", json={"email": "two@example.org", "password": TEST_PASSWORD}
        )
        assert second.status_code == 429
        assert "retry-after" in second.headers
        reset = await client.post(
            "/api/auth/request-password-reset", json={"email": "one@example.org"}
        )
        assert reset.status_code == 202
        again = await client.post(
            "/api/auth/request-password-reset", json={"email": "one@example.org"}
        )
        assert again.status_code == 429


@pytest.mark.parametrize(
    ("auth", "email", "status", "code"),
    [
        ({"signup": "open"}, "a@anywhere.example", 201, None),
        (
            {"signup": "domains", "allowed_email_domains": ["lab.example"]},
            "a@lab.example",
            201,
            None,
        ),
        (
            {"signup": "domains", "allowed_email_domains": ["lab.example"]},
            "a@evil.example",
            403,
            "email_domain_not_allowed",
        ),
        ({"signup": "invite"}, "a@lab.example", 403, "signup_invite_only"),
        ({"signup": "disabled"}, "a@lab.example", 403, "signup_disabled"),
    ],
)
async def test_signup_modes(
    tmp_path: Path,
    database_url: str,
    inbox: Inbox,
    auth: dict[str, object],
    email: str,
    status: int,
    code: str | None,
) -> None:
    settings = auth_settings(tmp_path, database_url, inbox, auth=auth)
    async with running(settings) as (_app, client):
        response = await client.post(
            "/api/auth/signup", json={"email": email, "password": TEST_PASSWORD}
        )
        assert response.status_code == status, response.text
        if code is not None:
            assert response.json()["code"] == code
        else:
            assert "projectw_session" in response.headers["set-cookie"]


async def test_signup_with_a_taken_address(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    response = await client.post(
        "/api/auth/signup", json={"email": user_account.email.upper(), "password": TEST_PASSWORD}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_disabled_account_cannot_sign_in(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, user_account: Account
) -> None:
    disabled = await admin_client.patch(
        f"/api/admin/users/{user_account.id}", json={"is_active": False}
    )
    assert disabled.status_code == 200
    assert (
        await client.get("/api/users/me", headers=bearer(user_account.token))
    ).status_code == 401
    login = await client.post(
        "/api/auth/login", json={"email": user_account.email, "password": TEST_PASSWORD}
    )
    assert login.status_code == 403
    assert login.json()["code"] == "account_disabled"


def test_production_hashing_uses_owasp_argon2id_parameters() -> None:
    passwords = passwords_for(AuthSettings())
    assert passwords.parameters == (OWASP_TIME_COST, OWASP_MEMORY_KIB, 1)
    assert (OWASP_TIME_COST, OWASP_MEMORY_KIB) == (2, 19456)


async def test_password_hash_is_upgraded_at_login(
    tmp_path: Path, database_url: str, inbox: Inbox
) -> None:
    """An account hashed at another cost gets the server's parameters on its next sign-in."""
    fast = auth_settings(tmp_path, database_url, inbox)
    async with running(fast) as (app, _client):
        account = await create_account(app)
    production = fast.model_copy(
        update={"auth": fast.auth.model_copy(update={"fast_password_hashing_for_tests": False})}
    )
    async with running(production) as (app, client):
        response = await client.post(
            "/api/auth/login", json={"email": account.email, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200
        async with app.state.runtime.db.session() as session:
            stored = await session.scalar(select(User.password_hash).where(User.id == account.id))
    assert stored is not None and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_password_verification_refuses_a_missing_hash() -> None:
    passwords = passwords_for(AuthSettings(fast_password_hashing_for_tests=True))
    hashed = await passwords.hash(TEST_PASSWORD)
    assert await passwords.verify(hashed, TEST_PASSWORD)
    assert not await passwords.verify(hashed, TEST_PASSWORD + "x")
    assert not await passwords.verify(None, TEST_PASSWORD)
    assert not await passwords.verify("not a hash", TEST_PASSWORD)


async def test_auth_settings_describe_the_server(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/auth/settings")
    assert response.status_code == 200
    assert response.json() == {
        "signup": "open",
        "allowed_email_domains": [],
        "mail_configured": True,
        "verification_required": True,
        "password_min_length": 12,
        "password_max_length": 1024,
    }
