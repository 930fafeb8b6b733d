"""Single-use links: first-start setup, e-mail verification and change, password reset.

The link carries a random token; the database keeps only its hash, its purpose, its expiry
and when it was used. Using a link marks it used in the same transaction as its effect.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.auth.tokens import hash_token, new_token
from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import LinkToken
from projectw.errors import BadRequest

# Used and expired links are kept this long, so that reusing one gets a precise answer.
LINK_RETENTION = timedelta(days=7)

Purpose = Literal["setup", "verify_email", "change_email", "reset_password"]

# The web app's hash-router page each purpose's link opens.
PAGES: dict[Purpose, str] = {
    "setup": "setup",
    "verify_email": "verify-email",
    "change_email": "verify-email",
    "reset_password": "reset-password",
}


def link_url(base_url: str, purpose: Purpose, token: str) -> str:
    return f"{base_url}/#/{PAGES[purpose]}?token={token}"


async def issue_link(
    session: AsyncSession,
    *,
    purpose: Purpose,
    lifetime: timedelta,
    user_id: int | None = None,
    email: str | None = None,
) -> str:
    """Store a new link token and return it; earlier unused links for the same thing die."""
    if user_id is not None:
        await session.execute(
            delete(LinkToken).where(
                LinkToken.user_id == user_id,
                LinkToken.purpose == purpose,
                LinkToken.used_at.is_(None),
            )
        )
    token = new_token()
    now = utcnow()
    session.add(
        LinkToken(
            purpose=purpose,
            token_hash=hash_token(token),
            user_id=user_id,
            email=email,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


async def use_link(session: AsyncSession, token: str, purposes: set[Purpose]) -> LinkToken:
    """Mark the link used and return it, or raise a BadRequest saying why it cannot be used.

    Call inside a write session: the row is locked, so a link works exactly once.
    """
    link = await session.scalar(
        select(LinkToken).where(LinkToken.token_hash == hash_token(token)).with_for_update()
    )
    if link is None or link.purpose not in purposes:
        raise BadRequest(
            "This link is not valid; it may have been replaced by a newer one.",
            code="link_invalid",
        )
    if link.used_at is not None:
        raise BadRequest("This link has already been used.", code="link_used")
    if link.expires_at <= utcnow():
        raise BadRequest("This link has expired; ask for a new one.", code="link_expired")
    link.used_at = utcnow()
    return link


async def purge_links(db: Database) -> int:
    """Delete links used or expired a week ago (periodic housekeeping).

    Until then, using one again says it was used or has expired rather than "not valid".
    """
    cutoff = utcnow() - LINK_RETENTION
    async with db.session() as session:
        result = await session.execute(
            delete(LinkToken).where((LinkToken.used_at < cutoff) | (LinkToken.expires_at < cutoff))
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
