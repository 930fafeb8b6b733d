"""Browser sessions and API tokens: issued, checked on every request, listed, revoked.

Both are opaque random tokens stored only as a hash. A session slides its expiry forward
when used (bounded by a maximum age); an API token lives until its optional expiry or until
it is revoked. Every request looks the token up in the database, so revoking one takes
effect on the very next request on every server instance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.auth.tokens import hash_token, new_token
from projectw.config import AuthSettings
from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import AuthToken, User

TokenKind = Literal["session", "api"]
# Last use and sliding expiry are written at most this often per token (saves a write per request).
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class AuthContext:
    """Who is calling, and with which credential."""

    user: User
    token_id: int
    kind: TokenKind
    is_admin: bool
    expires_at: datetime | None
    refreshed: bool = False

    @property
    def is_api_token(self) -> bool:
        return self.kind == "api"


@dataclass(frozen=True)
class IssuedToken:
    """A token as handed out once; only its hash is kept."""

    id: int
    token: str
    expires_at: datetime | None


def _clip(text: str | None, length: int) -> str | None:
    return text[:length] if text else None


async def start_session(
    session: AsyncSession,
    settings: AuthSettings,
    user: User,
    *,
    user_agent: str | None,
    address: str | None,
) -> IssuedToken:
    """Add a session for ``user`` to the caller's transaction."""
    token = new_token()
    now = utcnow()
    max_expires = now + timedelta(days=settings.session_max_days)
    expires = min(now + timedelta(hours=settings.session_idle_hours), max_expires)
    row = AuthToken(
        user_id=user.id,
        kind="session",
        token_hash=hash_token(token),
        user_agent=_clip(user_agent, 255),
        created_from=_clip(address, 45),
        created_at=now,
        last_used_at=now,
        expires_at=expires,
        max_expires_at=max_expires,
    )
    session.add(row)
    await session.flush()
    return IssuedToken(row.id, token, expires)


async def create_api_token(
    session: AsyncSession,
    user: User,
    *,
    name: str,
    expires_at: datetime | None,
    is_admin: bool,
    address: str | None,
) -> IssuedToken:
    """Add a named API token to the caller's transaction."""
    token = new_token()
    row = AuthToken(
        user_id=user.id,
        kind="api",
        name=name,
        token_hash=hash_token(token),
        is_admin=is_admin,
        created_from=_clip(address, 45),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return IssuedToken(row.id, token, expires_at)


async def revoke_tokens(
    session: AsyncSession,
    user_id: int,
    *,
    kinds: Iterable[TokenKind] = ("session", "api"),
    keep_id: int | None = None,
    only_id: int | None = None,
) -> int:
    """Delete the user's tokens of these kinds (all but ``keep_id``, or just ``only_id``)."""
    query = delete(AuthToken).where(AuthToken.user_id == user_id, AuthToken.kind.in_(list(kinds)))
    if keep_id is not None:
        query = query.where(AuthToken.id != keep_id)
    if only_id is not None:
        query = query.where(AuthToken.id == only_id)
    result = await session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


async def authenticate(db: Database, settings: AuthSettings, token: str) -> AuthContext | None:
    """The context for a presented token, or None if it is unknown, expired or its user disabled."""
    now = utcnow()
    async with db.session() as session:
        row = (
            await session.execute(
                select(AuthToken, User)
                .join(User, User.id == AuthToken.user_id)
                .where(AuthToken.token_hash == hash_token(token))
            )
        ).first()
        if row is None:
            return None
        credential, user = row[0], row[1]
        if not user.is_active or (
            credential.expires_at is not None and credential.expires_at <= now
        ):
            return None
        expires_at = credential.expires_at
        refreshed = (
            credential.last_used_at is None or now - credential.last_used_at > TOUCH_INTERVAL
        )
    if refreshed:
        values: dict[str, object] = {"last_used_at": now}
        if credential.kind == "session" and credential.max_expires_at is not None:
            expires_at = min(
                now + timedelta(hours=settings.session_idle_hours), credential.max_expires_at
            )
            values["expires_at"] = expires_at
        # A transaction of its own that starts with the write (SQLite takes the lock at once).
        async with db.session() as session:
            await session.execute(
                update(AuthToken).where(AuthToken.id == credential.id).values(**values)
            )
            await session.commit()
    is_admin = user.is_admin and (credential.kind == "session" or credential.is_admin)
    kind: TokenKind = "api" if credential.kind == "api" else "session"
    return AuthContext(user, credential.id, kind, is_admin, expires_at, refreshed)


async def list_tokens(db: Database, user_id: int, kind: TokenKind) -> list[AuthToken]:
    """The user's live sessions or API tokens, newest first."""
    now = utcnow()
    async with db.session() as session:
        rows = await session.scalars(
            select(AuthToken)
            .where(
                AuthToken.user_id == user_id,
                AuthToken.kind == kind,
                (AuthToken.expires_at.is_(None)) | (AuthToken.expires_at > now),
            )
            .order_by(AuthToken.created_at.desc(), AuthToken.id.desc())
        )
        return list(rows)


async def revoke_one(db: Database, user_id: int, token_id: int, kind: TokenKind) -> bool:
    """Revoke one of the user's tokens; False if they have no such token."""
    async with db.session() as session:
        result = await session.execute(
            delete(AuthToken).where(
                AuthToken.id == token_id, AuthToken.user_id == user_id, AuthToken.kind == kind
            )
        )
        await session.commit()
    return bool(getattr(result, "rowcount", 0))


async def purge_expired(db: Database) -> int:
    """Delete expired sessions and tokens (periodic housekeeping)."""
    async with db.session() as session:
        result = await session.execute(
            delete(AuthToken).where(
                AuthToken.expires_at.is_not(None), AuthToken.expires_at <= utcnow()
            )
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
