"""The one-time setup link that lets the owner create the first admin account."""

from __future__ import annotations

import logging
from datetime import timedelta

from projectw.auth.links import issue_link, link_url
from projectw.auth.users import count_users
from projectw.config import Settings
from projectw.db.engine import Database

log = logging.getLogger(__name__)


async def setup_link_if_needed(db: Database, settings: Settings, base_url: str) -> str | None:
    """A fresh setup link when the server has no users yet, else None."""
    async with db.write_session() as session:
        if await count_users(session) > 0:
            return None
        token = await issue_link(
            session, purpose="setup", lifetime=timedelta(hours=settings.auth.setup_link_hours)
        )
        await session.commit()
    log.info("no accounts yet: setup link issued", extra={"hours": settings.auth.setup_link_hours})
    return link_url(base_url, "setup", token)
