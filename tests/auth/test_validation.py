"""Bad input to the account routes is a 422 naming the field, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

LONG = "x" * 1025

CASES: list[tuple[str, str, Any, str]] = [
    # (method, path, JSON body, field the answer must name)
    ("POST", "/api/auth/signup", {"email": "not-an-address", "password": "x" * 12}, "email"),
    ("POST", "/api/auth/signup", {"email": "a@example.org", "password": "short"}, "password"),
    ("POST", "/api/auth/signup", {"email": "a@example.org", "password": LONG}, "password"),
    (
        "POST",
        "/api/auth/signup",
        {"email": "a" * 250 + "@example.org", "password": "x" * 12},
        "email",
    ),
    ("POST", "/api/auth/signup", {"password": "x" * 12}, "email"),
    ("POST", "/api/auth/signup", {"email": 42, "password": "x" * 12}, "email"),
    ("POST", "/api/auth/signup", {"email": "a@example.org", "password": ["x"]}, "password"),
    (
        "POST",
        "/api/auth/signup",
        {"email": "a@example.org", "password": "x" * 12, "display_name": "n" * 101},
        "display_name",
    ),
    (
        "POST",
        "/api/auth/signup",
        {"email": "a@example.org", "password": "x" * 12, "admin": True},
        "admin",
    ),
    ("POST", "/api/auth/login", {"email": "a@example.org"}, "password"),
    ("POST", "/api/auth/login", {"email": "a@example.org", "password": LONG}, "password"),
    ("POST", "/api/auth/login", {"email": "", "password": "x"}, "email"),
    ("POST", "/api/auth/setup", {"email": "a@example.org", "password": "x" * 12}, "token"),
    ("POST", "/api/auth/verify-email", {"token": "t" * 201}, "token"),
    ("POST", "/api/auth/verify-email", {}, "token"),
    ("POST", "/api/auth/request-password-reset", {"email": "nope"}, "email"),
    ("POST", "/api/auth/reset-password", {"token": "t", "password": "short"}, "password"),
    ("POST", "/api/users/me/tokens", {"name": ""}, "name"),
    ("POST", "/api/users/me/tokens", {"name": "x", "expires_at": "tomorrow"}, "expires_at"),
    (
        "POST",
        "/api/users/me/tokens",
        {"name": "x", "expires_at": "2099-01-01T00:00:00"},
        "expires_at",
    ),
    ("POST", "/api/users/me/tokens", {"name": "x", "admin": "maybe"}, "admin"),
    ("POST", "/api/users/me/password", {"current_password": "x"}, "new_password"),
    ("PATCH", "/api/users/me", {"email": "broken"}, "email"),
    ("POST", "/api/users/me/accept-tos", {"tos_id": "terms", "version": "one"}, "version"),
    ("POST", "/api/users/me/accept-tos", {"tos_id": "terms", "version": 0}, "version"),
    ("POST", "/api/admin/users", {"email": "a@example.org", "password": "short"}, "password"),
    ("PATCH", "/api/admin/users/1", {"is_active": "sometimes"}, "is_active"),
    ("GET", "/api/admin/users?limit=0", None, "limit"),
    ("GET", "/api/admin/users?offset=-1", None, "offset"),
    ("DELETE", "/api/users/me/sessions/abc", None, "session_id"),
    ("DELETE", "/api/admin/users/abc", None, "user_id"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
async def test_bad_input_names_the_field(
    admin_client: httpx.AsyncClient, method: str, path: str, body: Any, field: str
) -> None:
    response = await admin_client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["code"] == "validation_error"
    assert f"'{field}'" in answer["detail"], answer["detail"]


async def test_login_body_that_is_not_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_login_form_without_password_names_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", data={"username": "a@example.org"})
    assert response.status_code == 422
    assert "'password'" in response.json()["detail"]
