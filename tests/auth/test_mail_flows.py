"""Every flow that sends mail, through a real SMTP server: read the message, follow its link."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from projectw.db.base import utcnow
from projectw.db.models import AuthToken, Blob, BlobChunk, Job, LinkToken, OutboxMail, User
from tests.auth.conftest import Inbox, bearer
from tests.conftest import TEST_PASSWORD, Account, create_account

NEW_PASSWORD = "a brand new passphrase"


async def signup(client: httpx.AsyncClient, email: str) -> dict[str, object]:
    response = await client.post(
        "/api/auth/signup", json={"email": email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_signup_sends_a_verification_link_that_works_once(
    client: httpx.AsyncClient, inbox: Inbox
) -> None:
    body = await signup(client, "Ada@Example.org")
    assert body["verification_sent"] is True
    token = str(body["token"])
    me = (await client.get("/api/users/me", headers=bearer(token))).json()
    assert me["email"] == "ada@example.org"
    assert (me["email_verified"], me["can_submit"]) == (False, False)

    mail = await inbox.wait_for("ada@example.org")
    assert mail.message["From"] == "Project-W <projectw@example.org>"
    assert "Confirm" in mail.message["Subject"]
    link = mail.link("verify-email")
    assert mail.html is not None and f"token={link}" in mail.html
    assert "http://127.0.0.1:5000/#/verify-email?token=" in mail.text

    verified = await client.post("/api/auth/verify-email", json={"token": link})
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"email": "ada@example.org"}
    me = (await client.get("/api/users/me", headers=bearer(token))).json()
    assert me["email_verified"] is True

    again = await client.post("/api/auth/verify-email", json={"token": link})
    assert again.status_code == 400
    assert again.json() == {"detail": "This link has already been used.", "code": "link_used"}


async def test_expired_and_unknown_links_are_refused_clearly(
    client: httpx.AsyncClient, inbox: Inbox, app: FastAPI
) -> None:
    await signup(client, "late@example.org")
    link = (await inbox.wait_for("late@example.org")).link("verify-email")
    async with app.state.runtime.db.session() as session:
        await session.execute(update(LinkToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    expired = await client.post("/api/auth/verify-email", json={"token": link})
    assert expired.status_code == 400
    assert expired.json()["code"] == "link_expired"
    assert "expired" in expired.json()["detail"]
    unknown = await client.post("/api/auth/verify-email", json={"token": "not-a-real-token"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "link_invalid"


async def test_resend_verification(client: httpx.AsyncClient, inbox: Inbox) -> None:
    body = await signup(client, "slow@example.org")
    first = (await inbox.wait_for("slow@example.org")).link("verify-email")
    headers = bearer(str(body["token"]))
    resent = await client.post("/api/auth/resend-verification", headers=headers)
    assert resent.status_code == 202
    second = (await inbox.wait_for("slow@example.org")).link("verify-email")
    assert second != first
    # A newer link replaces the older one.
    old = await client.post("/api/auth/verify-email", json={"token": first})
    assert old.json()["code"] == "link_invalid"
    assert (await client.post("/api/auth/verify-email", json={"token": second})).status_code == 200
    done = await client.post("/api/auth/resend-verification", headers=headers)
    assert done.status_code == 409
    assert done.json()["code"] == "already_verified"


async def test_password_reset_signs_out_everywhere_and_works_once(
    client: httpx.AsyncClient, inbox: Inbox, app: FastAPI, user_account: Account
) -> None:
    other_session = await client.post(
        "/api/auth/login", json={"email": user_account.email, "password": TEST_PASSWORD}
    )
    api_token = await client.post(
        "/api/users/me/tokens", json={"name": "script"}, headers=bearer(user_account.token)
    )
    assert api_token.status_code == 201
    old_tokens = [user_account.token, other_session.json()["token"], api_token.json()["token"]]

    unknown = await client.post(
        "/api/auth/request-password-reset", json={"email": "nobody@example.org"}
    )
    known = await client.post(
        "/api/auth/request-password-reset", json={"email": user_account.email.upper()}
    )
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()

    mail = await inbox.wait_for(user_account.email)
    assert "60 minutes" in mail.text
    link = mail.link("reset-password")
    async with app.state.runtime.db.session() as session:
        recipients = set(await session.scalars(select(OutboxMail.recipient)))
        assert recipients == {user_account.email}, "no mail for an unknown address"
        link_row = await session.scalar(
            select(LinkToken).where(LinkToken.purpose == "reset_password")
        )
    assert link_row is not None
    assert link_row.expires_at - link_row.created_at == timedelta(hours=1)

    reset = await client.post(
        "/api/auth/reset-password", json={"token": link, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.text
    for token in old_tokens:
        response = await client.get("/api/users/me", headers=bearer(token))
        assert response.status_code == 401, "every old session and token is revoked"

    old = await client.post(
        "/api/auth/login", json={"email": user_account.email, "password": TEST_PASSWORD}
    )
    assert old.status_code == 401
    new = await client.post(
        "/api/auth/login", json={"email": user_account.email, "password": NEW_PASSWORD}
    )
    assert new.status_code == 200
    reused = await client.post(
        "/api/auth/reset-password", json={"token": link, "password": "yet another password"}
    )
    assert reused.status_code == 400
    assert reused.json()["code"] == "link_used"


async def test_change_email_is_confirmed_at_the_new_address(
    client: httpx.AsyncClient, user_client: httpx.AsyncClient, inbox: Inbox, user_account: Account
) -> None:
    wrong = await user_client.patch(
        "/api/users/me", json={"email": "new@example.org", "current_password": "not my password"}
    )
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "wrong_password"
    missing = await user_client.patch("/api/users/me", json={"email": "new@example.org"})
    assert missing.status_code == 422
    assert "current_password" in missing.json()["detail"]

    asked = await user_client.patch(
        "/api/users/me",
        json={"email": "New@Example.org", "current_password": TEST_PASSWORD},
        headers={"X-Requested-With": "x"},
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["pending_email"] == "new@example.org"
    assert asked.json()["email"] == user_account.email, "nothing changes before confirmation"

    link = (await inbox.wait_for("new@example.org")).link("verify-email")
    confirmed = await client.post("/api/auth/verify-email", json={"token": link})
    assert confirmed.status_code == 200
    assert confirmed.json() == {"email": "new@example.org"}
    notice = await inbox.wait_for(user_account.email)
    assert "new@example.org" in notice.text

    me = (await user_client.get("/api/users/me")).json()
    assert me["email"] == "new@example.org"
    login = await client.post(
        "/api/auth/login", json={"email": "new@example.org", "password": TEST_PASSWORD}
    )
    assert login.status_code == 200


async def test_change_email_to_a_taken_address_is_refused(
    user_client: httpx.AsyncClient, other_user_account: Account
) -> None:
    response = await user_client.patch(
        "/api/users/me",
        json={"email": other_user_account.email, "current_password": TEST_PASSWORD},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_invitation_lets_the_person_choose_a_password(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, inbox: Inbox
) -> None:
    created = await admin_client.post("/api/admin/users", json={"email": "guest@example.org"})
    assert created.status_code == 201, created.text
    assert created.json()["invitation_sent"] is True
    assert created.json()["has_password"] is False
    mail = await inbox.wait_for("guest@example.org")
    assert "invited" in mail.message["Subject"]
    link = mail.link("reset-password")
    chosen = await client.post(
        "/api/auth/reset-password", json={"token": link, "password": NEW_PASSWORD}
    )
    assert chosen.status_code == 200
    login = await client.post(
        "/api/auth/login", json={"email": "guest@example.org", "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
    assert login.json()["user"]["email_verified"] is True


async def test_deleting_the_account_removes_jobs_audio_and_transcripts(
    app: FastAPI, client: httpx.AsyncClient, user_account: Account, other_user_account: Account
) -> None:
    db = app.state.runtime.db
    async with db.session() as session:
        for owner in (user_account.id, other_user_account.id):
            audio = Blob(kind="audio", chunk_size=16, nonce_prefix=b"12345678", complete=True)
            text = Blob(kind="transcript", chunk_size=16, nonce_prefix=b"87654321", complete=True)
            session.add_all([audio, text])
            await session.flush()
            session.add_all(
                [
                    BlobChunk(blob_id=audio.id, index=0, data=b"x"),
                    BlobChunk(blob_id=text.id, index=0, data=b"y"),
                ]
            )
            session.add(
                Job(
                    user_id=owner,
                    settings={},
                    file_name="talk.wav",
                    audio_blob_id=audio.id,
                    transcript_blob_id=text.id,
                )
            )
        await session.commit()

    headers = bearer(user_account.token)
    wrong = await client.request(
        "DELETE", "/api/users/me", json={"password": "not my password"}, headers=headers
    )
    assert wrong.status_code == 403
    deleted = await client.request(
        "DELETE", "/api/users/me", json={"password": TEST_PASSWORD}, headers=headers
    )
    assert deleted.status_code == 204
    assert (await client.get("/api/users/me", headers=headers)).status_code == 401

    async with db.session() as session:
        assert await session.get(User, user_account.id) is None
        owners = set(await session.scalars(select(Job.user_id)))
        assert owners == {other_user_account.id}
        assert await session.scalar(select(func.count()).select_from(Blob)) == 2
        assert await session.scalar(select(func.count()).select_from(BlobChunk)) == 2
        tokens = await session.scalar(
            select(func.count()).where(AuthToken.user_id == user_account.id)
        )
        assert tokens == 0


async def test_last_admin_cannot_delete_themself(
    admin_client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await admin_client.request(
        "DELETE", "/api/users/me", json={"password": TEST_PASSWORD}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "last_admin"
    await create_account(app, admin=True)
    again = await admin_client.request("DELETE", "/api/users/me", json={"password": TEST_PASSWORD})
    assert again.status_code == 204
