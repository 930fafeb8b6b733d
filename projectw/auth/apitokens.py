"""Named API tokens for scripts and the TUI: shown once, optional expiry, revocable."""

from __future__ import annotations

from datetime import datetime

from projectw.auth.sessions import AuthContext, IssuedToken, create_api_token
from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.errors import Forbidden, InvalidInput


async def issue_api_token(
    db: Database,
    auth: AuthContext,
    *,
    name: str,
    expires_at: datetime | None,
    admin: bool,
    address: str | None,
) -> IssuedToken:
    """Create a token for the caller; admin rights only for an admin who asks for them."""
    if admin and not auth.is_admin:
        raise Forbidden(
            "Only an administrator can create a token with admin rights.", code="admin_required"
        )
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("Field 'expires_at': must be in the future.")
    async with db.session() as session:
        issued = await create_api_token(
            session, auth.user, name=name, expires_at=expires_at, is_admin=admin, address=address
        )
        await session.commit()
    return issued
