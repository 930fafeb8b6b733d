"""Authorization matrix: every /api route, called by every kind of caller, answers as expected.

The test enumerates the app's routes and fails for any /api route without a row in
``EXPECTATIONS``. To add a route: add a row ``(METHOD, path): Case(expect={role: status})``.
``expect`` may name only some roles (e.g. ``requires_sign_in()``); the others are not called.
``body`` builds the JSON body and ``params`` the path parameters from the ``World`` (fresh for
every call: accounts, tokens and ids made for it). Roles:

- ``anonymous``: no credentials.
- ``user``: the owner of the world's resources, by session.
- ``other_user``: another user, acting on the owner's resources (ids in the path).
- ``admin``: an administrator's session.
- ``api_token``: the owner's API token without admin rights.
- ``admin_token``: an API token created by an administrator with admin rights.
- ``revoked_token``: a session of the owner that was signed out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from projectw.db.base import utcnow
from projectw.db.models import AuthToken
from tests.auth.conftest import bearer
from tests.conftest import TEST_PASSWORD, Account, create_account

ROLES = (
    "anonymous",
    "user",
    "other_user",
    "admin",
    "api_token",
    "admin_token",
    "revoked_token",
)


@dataclass
class World:
    """Fresh accounts and credentials for one call."""

    owner: Account
    other: Account
    admin: Account
    token_admin: Account
    target: Account
    owner_session_id: int
    api_token: str
    api_token_id: int
    admin_token: str
    revoked: str
    extra: dict[str, Any] = field(default_factory=dict)

    def credential(self, role: str) -> str | None:
        return {
            "anonymous": None,
            "user": self.owner.token,
            "other_user": self.other.token,
            "admin": self.admin.token,
            "api_token": self.api_token,
            "admin_token": self.admin_token,
            "revoked_token": self.revoked,
        }[role]

    def account(self, role: str) -> Account | None:
        return {
            "user": self.owner,
            "other_user": self.other,
            "admin": self.admin,
            "api_token": self.owner,
            "admin_token": self.token_admin,
        }.get(role)


@dataclass(frozen=True)
class Case:
    expect: Mapping[str, int]
    body: Callable[[World, str], Any] | None = None
    params: Callable[[World], Mapping[str, object]] | None = None


def public(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def signed_in(status: int, **overrides: int) -> dict[str, int]:
    expect = {role: status for role in ROLES if role not in ("anonymous", "revoked_token")}
    return {"anonymous": 401, "revoked_token": 401, **expect, **overrides}


def admin_only(status: int) -> dict[str, int]:
    return signed_in(403, admin=status, admin_token=status)


def requires_sign_in() -> dict[str, int]:
    """The least every signed-in route must do; its own issue adds the other roles."""
    return {"anonymous": 401, "revoked_token": 401}


def requires_admin() -> dict[str, int]:
    return {**requires_sign_in(), "user": 403, "api_token": 403}


def _fresh_email(_world: World, _role: str) -> str:
    return f"new-{uuid.uuid4().hex[:10]}@example.org"


def _own_password(world: World, role: str) -> str:
    account = world.account(role)
    return account.password if account else TEST_PASSWORD


def owner_only(status: int) -> dict[str, int]:
    """The owner (session or API token) gets ``status``; any other user a 404."""
    return signed_in(404, user=status, api_token=status)


def _job(world: World) -> int:
    job_id: int = world.extra["job_id"]
    return job_id


def _owner_job(world: World) -> Mapping[str, object]:
    return {"job_id": _job(world)}


_REGISTER = {"name": "r", "version": "1", "git_hash": "x", "source_code_url": "u", "priority": 1}

OWNER_SESSION = {"session_id": lambda w: w.owner_session_id}
OWNER_TOKEN = {"token_id": lambda w: w.api_token_id}

EXPECTATIONS: dict[tuple[str, str], Case] = {
    # --- accounts (issue 3) ---
    ("GET", "/api/auth/settings"): Case(public(200)),
    ("POST", "/api/auth/setup"): Case(
        public(409),
        body=lambda w, r: {"token": "t", "email": _fresh_email(w, r), "password": TEST_PASSWORD},
    ),
    ("POST", "/api/auth/signup"): Case(
        public(201), body=lambda w, r: {"email": _fresh_email(w, r), "password": TEST_PASSWORD}
    ),
    ("POST", "/api/auth/login"): Case(
        public(200), body=lambda w, _r: {"email": w.owner.email, "password": TEST_PASSWORD}
    ),
    ("POST", "/api/auth/logout"): Case(signed_in(204)),
    ("POST", "/api/auth/logout-all"): Case(signed_in(204)),
    ("POST", "/api/auth/verify-email"): Case(public(400), body=lambda _w, _r: {"token": "bad"}),
    ("POST", "/api/auth/resend-verification"): Case(signed_in(409)),
    ("POST", "/api/auth/request-password-reset"): Case(
        public(202), body=lambda w, _r: {"email": w.owner.email}
    ),
    ("POST", "/api/auth/reset-password"): Case(
        public(400), body=lambda _w, _r: {"token": "bad", "password": TEST_PASSWORD}
    ),
    ("GET", "/api/users/me"): Case(signed_in(200)),
    ("PATCH", "/api/users/me"): Case(signed_in(200), body=lambda _w, _r: {"display_name": "N"}),
    ("DELETE", "/api/users/me"): Case(
        signed_in(204), body=lambda w, r: {"password": _own_password(w, r)}
    ),
    ("POST", "/api/users/me/password"): Case(
        signed_in(200),
        body=lambda w, r: {
            "current_password": _own_password(w, r),
            "new_password": "a new long password",
        },
    ),
    ("GET", "/api/users/me/sessions"): Case(signed_in(200)),
    ("DELETE", "/api/users/me/sessions/{session_id}"): Case(
        signed_in(404, user=204, api_token=204), params=lambda w: {"session_id": w.owner_session_id}
    ),
    ("GET", "/api/users/me/tokens"): Case(signed_in(200)),
    ("POST", "/api/users/me/tokens"): Case(signed_in(201), body=lambda _w, _r: {"name": "t"}),
    ("DELETE", "/api/users/me/tokens/{token_id}"): Case(
        signed_in(404, user=204, api_token=204), params=lambda w: {"token_id": w.api_token_id}
    ),
    ("POST", "/api/users/me/accept-tos"): Case(
        signed_in(200), body=lambda _w, _r: {"tos_id": "terms", "version": 1}
    ),
    ("GET", "/api/tos"): Case(public(200)),
    ("GET", "/api/admin/users"): Case(admin_only(200)),
    ("POST", "/api/admin/users"): Case(
        admin_only(201), body=lambda w, r: {"email": _fresh_email(w, r), "password": TEST_PASSWORD}
    ),
    ("PATCH", "/api/admin/users/{user_id}"): Case(
        admin_only(200),
        body=lambda _w, _r: {"display_name": "Renamed"},
        params=lambda w: {"user_id": w.target.id},
    ),
    ("DELETE", "/api/admin/users/{user_id}"): Case(
        admin_only(204), params=lambda w: {"user_id": w.target.id}
    ),
    # --- general ---
    ("GET", "/api/about"): Case(public(200)),
    # --- jobs (issue 4): the owner's job is w.extra["job_id"], finished with a transcript ---
    # An upload without a multipart body is a 400 for anyone allowed to upload.
    ("POST", "/api/jobs"): Case(signed_in(400)),
    ("GET", "/api/jobs"): Case(signed_in(200)),
    # Bulk actions answer per id; another user's id is reported not found inside the 200.
    ("POST", "/api/jobs/abort"): Case(signed_in(200), body=lambda w, _r: {"ids": [_job(w)]}),
    ("POST", "/api/jobs/delete"): Case(signed_in(200), body=lambda w, _r: {"ids": [_job(w)]}),
    ("POST", "/api/jobs/retry"): Case(signed_in(200), body=lambda w, _r: {"ids": [_job(w)]}),
    ("GET", "/api/jobs/{job_id}"): Case(owner_only(200), params=_owner_job),
    # The owner's job has finished, so aborting it is a conflict; others do not see it at all.
    ("POST", "/api/jobs/{job_id}/abort"): Case(owner_only(409), params=_owner_job),
    ("DELETE", "/api/jobs/{job_id}"): Case(owner_only(204), params=_owner_job),
    ("POST", "/api/jobs/{job_id}/retry"): Case(owner_only(201), params=_owner_job),
    ("GET", "/api/jobs/{job_id}/transcript"): Case(owner_only(200), params=_owner_job),
    ("GET", "/api/jobs/{job_id}/audio"): Case(owner_only(200), params=_owner_job),
    ("GET", "/api/users/me/default-settings"): Case(signed_in(200)),
    ("PUT", "/api/users/me/default-settings"): Case(
        signed_in(200), body=lambda _w, _r: {"language": "de"}
    ),
    # A signed-in caller gets an endless stream, which the in-process client cannot end;
    # tests/jobs/test_api_events.py checks streams over real HTTP.
    ("GET", "/api/events"): Case(requires_sign_in()),
    # --- runners (issue 5): the protocol takes runner tokens only, never user credentials ---
    ("POST", "/api/runners/register"): Case(public(401), body=lambda _w, _r: _REGISTER),
    ("POST", "/api/runners/unregister"): Case(public(401)),
    ("POST", "/api/runners/heartbeat"): Case(public(401), body=lambda _w, _r: {"progress": 0}),
    ("GET", "/api/runners/retrieve_job_info"): Case(public(401)),
    ("POST", "/api/runners/retrieve_job_audio"): Case(public(401)),
    ("POST", "/api/runners/submit_job_result"): Case(
        public(401), body=lambda _w, _r: {"error_msg": "x"}
    ),
    ("POST", "/api/admin/runners"): Case(admin_only(201), body=lambda _w, _r: {"name": "m"}),
    ("GET", "/api/admin/runners"): Case(admin_only(200)),
    ("GET", "/api/admin/queue"): Case(admin_only(200)),
    # No such runner: an admin gets as far as looking it up.
    ("DELETE", "/api/admin/runners/{runner_id}"): Case(
        admin_only(404), params=lambda _w: {"runner_id": 999_999}
    ),
}


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        path = getattr(context, "path", "")
        if path.startswith("/api/") or path == "/api":
            for method in getattr(context, "methods", None) or ():
                if method != "HEAD":
                    routes.add((method, path))
    return routes


def test_every_api_route_has_a_row(app: FastAPI) -> None:
    missing = sorted(api_routes(app) - set(EXPECTATIONS))
    assert not missing, f"add rows to EXPECTATIONS for: {missing}"
    stale = sorted(set(EXPECTATIONS) - api_routes(app))
    assert not stale, f"rows for routes that no longer exist: {stale}"


async def make_world(app: FastAPI, client: httpx.AsyncClient) -> World:
    owner = await create_account(app)
    other = await create_account(app)
    admin = await create_account(app, admin=True)
    token_admin = await create_account(app, admin=True)
    target = await create_account(app)
    second = await create_account_session(app, owner)
    revoked = await create_account_session(app, owner)
    assert (await client.post("/api/auth/logout", headers=bearer(revoked))).status_code == 204
    api = await client.post(
        "/api/users/me/tokens", json={"name": "api"}, headers=bearer(owner.token)
    )
    strong = await client.post(
        "/api/users/me/tokens",
        json={"name": "ops", "admin": True},
        headers=bearer(token_admin.token),
    )
    assert api.status_code == strong.status_code == 201
    world = World(
        owner=owner,
        other=other,
        admin=admin,
        token_admin=token_admin,
        target=target,
        owner_session_id=await _session_id(app, second),
        api_token=api.json()["token"],
        api_token_id=api.json()["id"],
        admin_token=strong.json()["token"],
        revoked=revoked,
    )
    world.extra["job_id"] = await finished_job(app, owner.id)
    return world


async def finished_job(app: FastAPI, user_id: int) -> int:
    """A succeeded job of ``user_id`` with a stored recording and transcript."""
    from projectw.db.models import Job
    from projectw.jobs.blobstore import BlobStore, mark_complete
    from projectw.transcripts.model import Segment, Transcript

    runtime = app.state.runtime
    store = BlobStore(runtime.db, runtime.secret)
    transcript = Transcript(segments=[Segment(start=0, end=1, text="Hello.")])
    audio = await store.write_bytes(b"RIFF recording", "audio")
    text = await store.write_bytes(transcript.model_dump_json().encode(), "transcript")
    async with runtime.db.write_session() as session, session.begin():
        await mark_complete(session, audio)
        await mark_complete(session, text)
        job = Job(
            user_id=user_id,
            status="succeeded",
            settings={"model": "small"},
            file_name="talk.wav",
            content_type="audio/wav",
            audio_blob_id=audio,
            transcript_blob_id=text,
            finished_at=utcnow(),
        )
        session.add(job)
    return job.id


async def create_account_session(app: FastAPI, account: Account) -> str:
    """Another session of ``account`` (signed in through the service, not HTTP)."""
    from projectw.auth.sessions import start_session
    from projectw.db.models import User

    runtime = app.state.runtime
    async with runtime.db.write_session() as session:
        user = await session.get(User, account.id)
        assert user is not None
        issued = await start_session(
            session, runtime.settings.auth, user, user_agent="matrix", address="127.0.0.1"
        )
        await session.commit()
    return issued.token


async def _session_id(app: FastAPI, token: str) -> int:
    from sqlalchemy import select

    from projectw.auth.tokens import hash_token

    async with app.state.runtime.db.session() as session:
        found = await session.scalar(
            select(AuthToken.id).where(AuthToken.token_hash == hash_token(token))
        )
    assert found is not None
    return int(found)


@pytest.mark.slow
async def test_authorization_matrix(app: FastAPI, client: httpx.AsyncClient) -> None:
    failures: list[str] = []
    world: World | None = None
    for (method, path), case in sorted(EXPECTATIONS.items()):
        for role, expected in case.expect.items():
            # A fresh world for every call that may change something; reads share one.
            if world is None or method != "GET":
                world = await make_world(app, client)
            params = case.params(world) if case.params else {}
            url = path.format(**params)
            credential = world.credential(role)
            headers = bearer(credential) if credential else {}
            body = case.body(world, role) if case.body else None
            client.cookies.clear()
            response = await client.request(method, url, json=body, headers=headers)
            if response.status_code != expected:
                failures.append(
                    f"{method} {path} as {role}: {response.status_code} (expected {expected}) "
                    f"{response.text[:160]}"
                )
            elif response.status_code >= 400:
                answer = response.json()
                if not (isinstance(answer.get("detail"), str) and answer.get("code")):
                    failures.append(f"{method} {path} as {role}: error without detail/code")
    assert not failures, "\n".join(failures)
