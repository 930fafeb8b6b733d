"""Outgoing mail through an outbox table: queued with the change that causes it, sent later.

A request only inserts a row (in its own transaction, so a rolled-back signup sends nothing)
and wakes the worker; the worker sends in the background with aiosmtplib and retries with
growing waits. Nothing is lost on a crash: an unsent row is picked up again by any server
instance once its claim runs out. Message bodies hold link tokens and are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.config import SmtpSettings
from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import OutboxMail
from projectw.errors import ServiceUnavailable

log = logging.getLogger(__name__)

BATCH_SIZE = 20
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
SENT_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class Message:
    """What to send: a subject, a plain-text body and optionally the same as HTML."""

    subject: str
    text: str
    html: str | None = None


class MailNotConfigured(ServiceUnavailable):
    """The server has no SMTP settings, so it cannot send mail."""

    code = "mail_not_configured"

    def __init__(self) -> None:
        super().__init__(
            "This server cannot send e-mail (SMTP is not configured); ask an administrator."
        )


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: 30 s, 1 min, ... 1 h."""
    delay: timedelta = FIRST_RETRY * 2 ** min(max(0, attempts - 1), 12)
    return min(delay, LONGEST_RETRY)


class Mailer:
    """Queues messages in the outbox and, in the worker, sends them."""

    def __init__(self, settings: SmtpSettings, db: Database) -> None:
        self.settings = settings
        self._db = db
        self._wake = asyncio.Event()

    @property
    def configured(self) -> bool:
        return self.settings.configured

    def require(self) -> None:
        """Raise MailNotConfigured unless mail can be sent."""
        if not self.configured:
            raise MailNotConfigured()

    def queue(self, session: AsyncSession, recipient: str, message: Message) -> None:
        """Add a message to the caller's transaction; call ``wake`` after committing."""
        self.require()
        session.add(
            OutboxMail(
                recipient=recipient,
                subject=message.subject,
                text_body=message.text,
                html_body=message.html,
                next_attempt_at=utcnow(),
            )
        )

    def wake(self) -> None:
        """Tell this instance's worker there is mail to send now."""
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Send due mail until ``stopping`` is set; wakes on ``wake`` or every poll interval."""
        while not stopping.is_set():
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:
                log.exception("mail outbox pass failed")
            waiters = {
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(stopping.wait()),
            }
            _done, pending = await asyncio.wait(
                waiters, timeout=self.settings.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter

    async def deliver_due(self) -> int:
        """Send every message that is due; returns how many were sent."""
        sent = 0
        while True:
            batch = await self._claim()
            if not batch:
                return sent
            for row in batch:
                sent += await self._attempt(row)

    async def _claim(self) -> list[OutboxMail]:
        now = utcnow()
        claim = timedelta(seconds=self.settings.timeout_seconds * 2 + 30)
        async with self._db.write_session() as session:
            rows = list(
                await session.scalars(
                    select(OutboxMail)
                    .where(
                        OutboxMail.status == "pending",
                        OutboxMail.next_attempt_at <= now,
                        or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
                    )
                    .order_by(OutboxMail.id)
                    .limit(BATCH_SIZE)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                row.claimed_until = now + claim
            await session.commit()
        return rows

    async def _attempt(self, row: OutboxMail) -> int:
        permanent = False
        error: str | None = None
        try:
            await self._send(row)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # The server refuses the address itself: retrying cannot help. Anything else
            # (login, TLS, a server that is down) may be fixed by the time of the next attempt.
            permanent = all(refusal.code >= 500 for refusal in exc.recipients)
            error = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        except aiosmtplib.SMTPResponseException as exc:
            error = f"{exc.code} {exc.message}"
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            error = str(exc) or type(exc).__name__
        async with self._db.write_session() as session:
            current = await session.get(OutboxMail, row.id)
            if current is None:
                return 0
            current.attempts += 1
            current.claimed_until = None
            if error is None:
                current.status, current.sent_at, current.last_error = "sent", utcnow(), None
            else:
                current.last_error = error[:1000]
                if permanent or current.attempts >= self.settings.max_attempts:
                    current.status = "failed"
                else:
                    current.next_attempt_at = utcnow() + retry_delay(current.attempts)
            await session.commit()
        if error is None:
            log.info("mail sent", extra={"outbox_id": row.id})
            return 1
        log.warning(
            "mail not sent",
            extra={"outbox_id": row.id, "error": error, "attempt": row.attempts + 1},
        )
        return 0

    def _message(self, row: OutboxMail) -> EmailMessage:
        sender = self.settings.sender or ""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = Address(addr_spec=row.recipient)
        message["Subject"] = row.subject
        message["Date"] = formatdate(localtime=False)
        domain = parseaddr(sender)[1].rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(row.text_body)
        if row.html_body:
            message.add_alternative(row.html_body, subtype="html")
        return message

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_file is not None:
            context.load_verify_locations(cafile=str(self.settings.ca_file))
        return context

    async def _send(self, row: OutboxMail) -> None:
        settings = self.settings
        security = settings.security
        await aiosmtplib.send(
            self._message(row),
            hostname=settings.host,
            port=settings.effective_port,
            username=settings.username,
            password=settings.password.get_secret_value() if settings.password else None,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            tls_context=self._tls_context() if security != "plain" else None,
            timeout=settings.timeout_seconds,
        )

    async def prune_sent(self) -> int:
        """Delete messages sent or given up on more than a week ago (periodic housekeeping)."""
        async with self._db.session() as session:
            result = await session.execute(
                delete(OutboxMail).where(
                    OutboxMail.status != "pending",
                    OutboxMail.created_at < utcnow() - SENT_RETENTION,
                )
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
