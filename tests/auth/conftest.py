"""Account tests run against a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from asgi_lifespan import LifespanManager
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI

from projectw.app import create_app
from projectw.config import Settings
from tests.conftest import make_settings

TERMS = {"id": "terms", "name": "Terms of service", "version": 1, "text": "Be kind."}
CSRF = {"X-Requested-With": "test"}
LINK = re.compile(r"(http://\S+?)/#/([a-z-]+)\?token=([A-Za-z0-9_-]+)")


@dataclass
class Received:
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())  # type: ignore[attr-defined]

    @property
    def html(self) -> str | None:
        body = self.message.get_body(preferencelist=("html",))
        return None if body is None else str(body.get_content())  # type: ignore[attr-defined]

    def link(self, page: str) -> str:
        """The token of the link to the web app's ``page`` in this message."""
        for match in LINK.finditer(self.text):
            if match.group(2) == page:
                return match.group(3)
        raise AssertionError(f"no link to {page} in:\n{self.text}")


@dataclass
class Inbox:
    """What the test SMTP server received."""

    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    async def wait_for(self, recipient: str, timeout: float = 20) -> Received:
        """The first message to ``recipient`` (removed from the inbox), waiting for it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for received in self.messages:
                if recipient in received.recipients:
                    self.messages.remove(received)
                    return received
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no mail to {recipient} within {timeout} s")
            await asyncio.sleep(0.05)

    def smtp_settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "security": "plain",
            "sender": "Project-W <projectw@example.org>",
            **extra,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Certificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificate(folder: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (the test mail server's TLS)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_file, key_file)


@contextmanager
def mail_server(
    *,
    port: int | None = None,
    implicit_tls: Certificate | None = None,
    starttls: Certificate | None = None,
    credentials: tuple[str, str] | None = None,
) -> Iterator[Inbox]:
    """A real SMTP server in a thread; optionally TLS, STARTTLS and a required login."""
    inbox = Inbox("127.0.0.1", port or free_port())
    options: dict[str, Any] = {}
    if starttls is not None:
        options.update(tls_context=starttls.server_context(), require_starttls=True)
    if credentials is not None:

        def authenticate(
            _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
        ) -> AuthResult:
            assert isinstance(data, LoginPassword)
            pair = (data.login.decode(), data.password.decode())
            inbox.logins.append(pair)
            return AuthResult(success=pair == credentials)

        options.update(authenticator=authenticate, auth_required=True)
    controller = Controller(
        inbox,
        hostname=inbox.host,
        port=inbox.port,
        ssl_context=implicit_tls.server_context() if implicit_tls else None,
        **options,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with mail_server() as server:
        yield server


def auth_settings(
    tmp_path: Path, database_url: str, inbox: Inbox | None, **overrides: Any
) -> Settings:
    """Settings with open sign-up, one terms document and (if given) the test mail server."""
    values: dict[str, Any] = {"auth": {"signup": "open"}, "tos": [TERMS]}
    if inbox is not None:
        values["smtp"] = inbox.smtp_settings()
    values.update(overrides)
    return make_settings(tmp_path / "data", database_url, **values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, inbox: Inbox) -> Settings:
    return auth_settings(tmp_path, database_url, inbox)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app with its own settings and an anonymous client of it."""
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
