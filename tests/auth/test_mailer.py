"""The mail outbox against real SMTP servers: STARTTLS, TLS, login, retries, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from projectw.config import SmtpSettings
from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import OutboxMail
from projectw.mail import Mailer, Message, retry_delay
from tests.auth.conftest import (
    Inbox,
    auth_settings,
    free_port,
    mail_server,
    make_certificate,
    running,
)

MESSAGE = Message(subject="Hello", text="Plain body", html="<p>HTML body</p>")


@pytest.fixture
async def db(tmp_path: Path, database_url: str) -> AsyncIterator[Database]:
    """A migrated database whose server runs no mail worker (SMTP unset), so tests drive it."""
    async with running(auth_settings(tmp_path, database_url, None)) as (app, _client):
        yield app.state.runtime.db


async def queue(db: Database, mailer: Mailer, recipient: str = "ada@example.org") -> int:
    async with db.session() as session:
        mailer.queue(session, recipient, MESSAGE)
        await session.commit()
        row_id = await session.scalar(select(OutboxMail.id).order_by(OutboxMail.id.desc()))
    assert row_id is not None
    return row_id


async def row(db: Database, row_id: int) -> OutboxMail:
    async with db.session() as session:
        found = await session.get(OutboxMail, row_id)
    assert found is not None
    return found


def smtp(inbox_or_port: Inbox | int, **extra: Any) -> SmtpSettings:
    port = inbox_or_port if isinstance(inbox_or_port, int) else inbox_or_port.port
    values = {"host": "127.0.0.1", "port": port, "security": "plain", "sender": "pw@example.org"}
    return SmtpSettings.model_validate({**values, **extra})


async def test_plain_text_and_html_parts(db: Database) -> None:
    with mail_server() as inbox:
        mailer = Mailer(smtp(inbox), db)
        row_id = await queue(db, mailer)
        assert await mailer.deliver_due() == 1
        received = await inbox.wait_for("ada@example.org")
    assert received.text.strip() == "Plain body"
    assert received.html is not None and "<p>HTML body</p>" in received.html
    assert received.message["Message-ID"].endswith("@example.org>")
    sent = await row(db, row_id)
    assert (sent.status, sent.attempts, sent.sent_at is not None) == ("sent", 1, True)


async def test_starttls_with_login(db: Database, tmp_path: Path) -> None:
    certificate = make_certificate(tmp_path / "tls")
    with mail_server(starttls=certificate, credentials=("mailer", "s3cret")) as inbox:
        mailer = Mailer(
            smtp(
                inbox,
                security="starttls",
                ca_file=str(certificate.cert_file),
                username="mailer",
                password="s3cret",
            ),
            db,
        )
        await queue(db, mailer)
        assert await mailer.deliver_due() == 1
        await inbox.wait_for("ada@example.org")
    assert inbox.logins == [("mailer", "s3cret")]


async def test_implicit_tls(db: Database, tmp_path: Path) -> None:
    certificate = make_certificate(tmp_path / "tls")
    with mail_server(implicit_tls=certificate) as inbox:
        mailer = Mailer(smtp(inbox, security="tls", ca_file=str(certificate.cert_file)), db)
        await queue(db, mailer)
        assert await mailer.deliver_due() == 1
        await inbox.wait_for("ada@example.org")


async def test_untrusted_certificate_is_not_used_and_retried(db: Database, tmp_path: Path) -> None:
    certificate = make_certificate(tmp_path / "tls")
    with mail_server(implicit_tls=certificate) as inbox:
        mailer = Mailer(smtp(inbox, security="tls"), db)
        row_id = await queue(db, mailer)
        assert await mailer.deliver_due() == 0
        assert inbox.messages == []
    failed = await row(db, row_id)
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert failed.last_error and "certificate" in failed.last_error.lower()


async def test_server_down_then_up_is_retried(db: Database) -> None:
    port = free_port()
    mailer = Mailer(smtp(port), db)
    row_id = await queue(db, mailer)
    assert await mailer.deliver_due() == 0
    waiting = await row(db, row_id)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert await mailer.deliver_due() == 0, "not due yet: nothing is tried"
    assert (await row(db, row_id)).attempts == 1

    with mail_server(port=port) as inbox:
        async with db.session() as session:
            await session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
            await session.commit()
        assert await mailer.deliver_due() == 1
        await inbox.wait_for("ada@example.org")
    assert (await row(db, row_id)).status == "sent"


async def test_gives_up_after_max_attempts(db: Database) -> None:
    mailer = Mailer(smtp(free_port(), max_attempts=1), db)
    row_id = await queue(db, mailer)
    assert await mailer.deliver_due() == 0
    assert (await row(db, row_id)).status == "failed"


class RefusingInbox(Inbox):
    async def handle_RCPT(
        self, _server: Any, _session: Any, _envelope: Any, address: str, _options: Any
    ) -> str:
        return f"550 no mailbox {address}"


async def test_refused_recipient_fails_at_once(db: Database) -> None:
    from aiosmtpd.controller import Controller

    inbox = RefusingInbox("127.0.0.1", free_port())
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        mailer = Mailer(smtp(inbox), db)
        row_id = await queue(db, mailer, "ghost@example.org")
        assert await mailer.deliver_due() == 0
    finally:
        controller.stop()
    failed = await row(db, row_id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error and "550" in failed.last_error


def test_retry_waits_grow_and_are_capped() -> None:
    waits = [retry_delay(attempt) for attempt in range(1, 12)]
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert waits == sorted(waits)
    assert waits[-1] == timedelta(hours=1)
    assert retry_delay(100) == timedelta(hours=1)


def test_smtp_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="sender"):
        SmtpSettings.model_validate({"host": "mail.example.org"})
    with pytest.raises(ValueError, match="together"):
        SmtpSettings.model_validate(
            {"host": "mail.example.org", "sender": "a@example.org", "username": "u"}
        )
    ports = {
        security: SmtpSettings.model_validate({"security": security}).effective_port
        for security in ("starttls", "tls", "plain")
    }
    assert ports == {"starttls": 587, "tls": 465, "plain": 25}
