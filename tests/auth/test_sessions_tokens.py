"""Sessions (list, revoke, sliding expiry) and API tokens (shown once, admin rights, revocation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from projectw.auth.housekeeping import housekeeping
from projectw.db.base import utcnow
from projectw.db.models import AuthToken, LinkToken, OutboxMail
from tests.auth.conftest import bearer
from tests.conftest import TEST_PASSWORD, Account


async def login(client: httpx.AsyncClient, account: Account, agent: str = "test") -> str:
    response = await client.post(
        "/api/auth/login",
        json={"email": account.email, "password": TEST_PASSWORD},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200
    token: str = response.json()["token"]
    client.cookies.clear()
    return token


async def test_list_and_revoke_sessions(client: httpx.AsyncClient, user_account: Account) -> None:
    laptop = await login(client, user_account, "Laptop browser")
    phone = await login(client, user_account, "Phone browser")
    listed = await client.get("/api/users/me/sessions", headers=bearer(laptop))
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 3 == len(body["items"])
    current = [item for item in body["items"] if item["current"]]
    assert [item["user_agent"] for item in current] == ["Laptop browser"]
    phone_id = next(item["id"] for item in body["items"] if item["user_agent"] == "Phone browser")
    assert "token" not in body["items"][0]

    revoked = await client.delete(f"/api/users/me/sessions/{phone_id}", headers=bearer(laptop))
    assert revoked.status_code == 204
    gone = await client.get("/api/users/me", headers=bearer(phone))
    assert gone.status_code == 401, "revocation takes effect on the very next request"
    assert gone.json()["code"] == "invalid_token"
    again = await client.delete(f"/api/users/me/sessions/{phone_id}", headers=bearer(laptop))
    assert again.status_code == 404


async def test_logout_and_logout_all(client: httpx.AsyncClient, user_account: Account) -> None:
    first = await login(client, user_account)
    second = await login(client, user_account)
    api = await client.post("/api/users/me/tokens", json={"name": "ci"}, headers=bearer(first))
    api_token = api.json()["token"]

    out = await client.post("/api/auth/logout", headers=bearer(first))
    assert out.status_code == 204
    assert (await client.get("/api/users/me", headers=bearer(first))).status_code == 401
    assert (await client.get("/api/users/me", headers=bearer(second))).status_code == 200

    everywhere = await client.post("/api/auth/logout-all", headers=bearer(second))
    assert everywhere.status_code == 204
    for token in (second, user_account.token):
        assert (await client.get("/api/users/me", headers=bearer(token))).status_code == 401
    still = await client.get("/api/users/me", headers=bearer(api_token))
    assert still.status_code == 200, "API tokens are managed on their own"


async def test_password_change_signs_out_other_sessions(
    client: httpx.AsyncClient, user_account: Account
) -> None:
    other = await login(client, user_account)
    wrong = await client.post(
        "/api/users/me/password",
        json={"current_password": "not my password", "new_password": "another long password"},
        headers=bearer(user_account.token),
    )
    assert wrong.status_code == 403
    assert (await client.get("/api/users/me", headers=bearer(other))).status_code == 200

    changed = await client.post(
        "/api/users/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": "another long password"},
        headers=bearer(user_account.token),
    )
    assert changed.status_code == 200
    assert changed.json()["signed_out_sessions"] == 1
    assert (await client.get("/api/users/me", headers=bearer(other))).status_code == 401
    assert (
        await client.get("/api/users/me", headers=bearer(user_account.token))
    ).status_code == 200


async def test_sessions_slide_and_expire(
    app: FastAPI, client: httpx.AsyncClient, user_account: Account
) -> None:
    db = app.state.runtime.db
    soon = utcnow() + timedelta(minutes=5)
    async with db.session() as session:
        await session.execute(
            update(AuthToken).values(expires_at=soon, last_used_at=utcnow() - timedelta(hours=1))
        )
        await session.commit()
    assert (
        await client.get("/api/users/me", headers=bearer(user_account.token))
    ).status_code == 200
    async with db.session() as session:
        row = await session.scalar(select(AuthToken))
    assert row is not None and row.expires_at is not None
    assert row.expires_at > soon + timedelta(days=13), "use extends the session"

    async with db.session() as session:
        await session.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    expired = await client.get("/api/users/me", headers=bearer(user_account.token))
    assert expired.status_code == 401


async def test_sliding_never_passes_the_maximum_age(
    app: FastAPI, client: httpx.AsyncClient, user_account: Account
) -> None:
    db = app.state.runtime.db
    cap = utcnow() + timedelta(hours=2)
    async with db.session() as session:
        await session.execute(
            update(AuthToken).values(max_expires_at=cap, last_used_at=utcnow() - timedelta(hours=1))
        )
        await session.commit()
    await client.get("/api/users/me", headers=bearer(user_account.token))
    async with db.session() as session:
        row = await session.scalar(select(AuthToken))
    assert row is not None and row.expires_at == cap


async def test_api_tokens_are_shown_once_and_revocable(
    client: httpx.AsyncClient, user_client: httpx.AsyncClient
) -> None:
    created = await user_client.post(
        "/api/users/me/tokens",
        json={"name": "backup script", "expires_at": "2099-01-01T00:00:00Z"},
    )
    assert created.status_code == 201
    token = created.json()
    assert token["name"] == "backup script" and token["is_admin"] is False
    assert token["expires_at"].startswith("2099-01-01")

    used = await client.get("/api/users/me", headers=bearer(token["token"]))
    assert used.status_code == 200
    listed = (await user_client.get("/api/users/me/tokens")).json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert item["id"] == token["id"] and "token" not in item
    assert item["last_used_at"] is not None

    revoked = await user_client.delete(f"/api/users/me/tokens/{token['id']}")
    assert revoked.status_code == 204
    assert (await client.get("/api/users/me", headers=bearer(token["token"]))).status_code == 401
    assert (await user_client.delete(f"/api/users/me/tokens/{token['id']}")).status_code == 404


async def test_expired_api_token_is_refused(
    app: FastAPI, client: httpx.AsyncClient, user_client: httpx.AsyncClient
) -> None:
    created = (await user_client.post("/api/users/me/tokens", json={"name": "short"})).json()
    async with app.state.runtime.db.session() as session:
        await session.execute(
            update(AuthToken)
            .where(AuthToken.id == created["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    assert (await client.get("/api/users/me", headers=bearer(created["token"]))).status_code == 401
    past = await user_client.post(
        "/api/users/me/tokens", json={"name": "x", "expires_at": "2000-01-01T00:00:00Z"}
    )
    assert past.status_code == 422
    assert "expires_at" in past.json()["detail"]


async def test_admin_rights_of_api_tokens(
    client: httpx.AsyncClient,
    user_client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    admin_account: Account,
    user_account: Account,
) -> None:
    refused = await user_client.post("/api/users/me/tokens", json={"name": "x", "admin": True})
    assert refused.status_code == 403
    assert refused.json()["code"] == "admin_required"

    plain = (await admin_client.post("/api/users/me/tokens", json={"name": "plain"})).json()
    strong = (
        await admin_client.post("/api/users/me/tokens", json={"name": "ops", "admin": True})
    ).json()
    assert strong["is_admin"] is True
    assert (
        await client.get("/api/admin/users", headers=bearer(strong["token"]))
    ).status_code == 200
    without = await client.get("/api/admin/users", headers=bearer(plain["token"]))
    assert without.status_code == 403, "an admin's token has admin rights only if created so"
    # A non-admin API token cannot mint an admin one either.
    minted = await client.post(
        "/api/users/me/tokens", json={"name": "y", "admin": True}, headers=bearer(plain["token"])
    )
    assert minted.status_code == 403

    # Promote the user, then demote the admin: the admin token loses its rights at once.
    promoted = await admin_client.patch(
        f"/api/admin/users/{user_account.id}", json={"is_admin": True}
    )
    assert promoted.status_code == 200
    demoted = await client.patch(
        f"/api/admin/users/{admin_account.id}",
        json={"is_admin": False},
        headers=bearer(user_account.token),
    )
    assert demoted.status_code == 200
    assert (
        await client.get("/api/admin/users", headers=bearer(strong["token"]))
    ).status_code == 403


async def test_housekeeping_removes_only_what_is_long_over(
    app: FastAPI, user_account: Account, other_user_account: Account
) -> None:
    runtime = app.state.runtime
    now = utcnow()
    long_ago = now - timedelta(days=8)
    async with runtime.db.session() as session:
        await session.execute(
            update(AuthToken)
            .where(AuthToken.user_id == user_account.id)
            .values(expires_at=now - timedelta(seconds=1))
        )
        session.add_all(
            [
                LinkToken(purpose="verify_email", token_hash="a" * 64, expires_at=long_ago),
                LinkToken(
                    purpose="verify_email",
                    token_hash="b" * 64,
                    expires_at=now + timedelta(hours=1),
                    used_at=now - timedelta(days=1),
                ),
                OutboxMail(
                    recipient="x@example.org",
                    subject="s",
                    text_body="t",
                    status="sent",
                    created_at=long_ago,
                ),
                OutboxMail(recipient="y@example.org", subject="s", text_body="t", status="sent"),
            ]
        )
        await session.commit()
    await housekeeping(runtime.db, runtime.mail)
    async with runtime.db.session() as session:
        owners = set(await session.scalars(select(AuthToken.user_id)))
        links = set(await session.scalars(select(LinkToken.token_hash)))
        mails = set(await session.scalars(select(OutboxMail.recipient)))
    assert owners == {other_user_account.id}
    assert links == {"b" * 64}, "a recently used link stays, so reuse gets a precise answer"
    assert mails == {"y@example.org"}
