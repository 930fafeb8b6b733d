"""Periodic clean-up of expired sessions, used links and old outbox mail."""

from __future__ import annotations

import logging

from projectw.auth.links import purge_links
from projectw.auth.sessions import purge_expired
from projectw.db.engine import Database
from projectw.mail import Mailer

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 3600.0


async def housekeeping(db: Database, mail: Mailer) -> None:
    tokens = await purge_expired(db)
    links = await purge_links(db)
    mails = await mail.prune_sent()
    if tokens or links or mails:
        log.info(
            "account housekeeping",
            extra={"expired_tokens": tokens, "old_links": links, "old_mail": mails},
        )
