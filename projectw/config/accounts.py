"""Settings sections for accounts: sign-in, rate limits, mail, terms of service."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from projectw.config.base import _Section


class RateLimitSettings(_Section):
    """How many attempts one client address or one account may make per window."""

    window_seconds: int = Field(
        900, ge=1, le=86400, description="Length of the rate-limit window in seconds."
    )
    login_per_address: int = Field(
        30, ge=1, description="Sign-in attempts allowed from one client address per window."
    )
    login_failures_per_account: int = Field(
        10,
        ge=1,
        description="Failed sign-ins allowed for one e-mail address per window; more are "
        "refused (429) until the window ends, even with the right password.",
    )
    signup_per_address: int = Field(
        10, ge=1, description="Sign-ups allowed from one client address per window."
    )
    mail_requests_per_address: int = Field(
        10,
        ge=1,
        description="Requests that send mail (verification, password reset, e-mail change) "
        "allowed from one client address per window.",
    )
    mail_requests_per_account: int = Field(
        5,
        ge=1,
        description="Requests that send mail allowed for one account or address per window.",
    )
    link_uses_per_address: int = Field(
        30,
        ge=1,
        description="Attempts to use a setup, verification or reset link from one client "
        "address per window.",
    )


class AuthSettings(_Section):
    """Local accounts: who may sign up, how long sessions and links last, rate limits."""

    signup: Literal["open", "domains", "invite", "disabled"] = Field(
        "invite",
        description="Who may create an account: `open` (anyone), `domains` (addresses in "
        "allowed_email_domains), `invite` (only admins create accounts) or `disabled` "
        "(nobody, not even admins through the API; the CLI still can).",
    )
    allowed_email_domains: list[str] = Field(
        default_factory=list,
        description="E-mail domains allowed to sign up when signup is `domains`, e.g. "
        "[example.org]. Subdomains must be listed on their own.",
    )
    require_email_verification: bool | None = Field(
        None,
        description="Users must confirm their e-mail address before they can submit work. "
        "Unset: required exactly when SMTP is configured.",
    )
    session_idle_hours: float = Field(
        336,
        gt=0,
        le=24 * 366,
        description="A browser session ends after this many hours without use (default 14 "
        "days); every use extends it.",
    )
    session_max_days: float = Field(
        90,
        gt=0,
        le=3660,
        description="A browser session ends this many days after sign-in, however often used.",
    )
    verification_link_hours: float = Field(
        48, gt=0, le=24 * 30, description="Hours an e-mail verification link stays valid."
    )
    reset_link_minutes: float = Field(
        60, gt=0, le=24 * 60, description="Minutes a password reset link stays valid."
    )
    invite_link_hours: float = Field(
        168,
        gt=0,
        le=24 * 30,
        description="Hours the link in an invitation (an account an admin created without a "
        "password) stays valid.",
    )
    setup_link_hours: float = Field(
        24,
        gt=0,
        le=24 * 30,
        description="Hours the one-time setup link printed on first start stays valid.",
    )
    fast_password_hashing_for_tests: bool = Field(
        False,
        description="For test suites only: hash passwords with the lowest argon2 cost so "
        "tests run fast. Never enable it on a server that holds real accounts.",
    )
    rate_limits: RateLimitSettings = Field(
        default_factory=RateLimitSettings, description="Rate limits on sign-in, sign-up and mail."
    )

    @field_validator("allowed_email_domains")
    @classmethod
    def _normalise_domains(cls, value: list[str]) -> list[str]:
        domains = [domain.strip().lower().lstrip("@") for domain in value]
        for domain in domains:
            if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
                raise ValueError(f"{domain!r} is not a domain name")
        return domains

    @model_validator(mode="after")
    def _domains_needed(self) -> AuthSettings:
        if self.signup == "domains" and not self.allowed_email_domains:
            raise ValueError("signup `domains` needs at least one entry in allowed_email_domains")
        return self


class SmtpSettings(_Section):
    """The mail server Project-W sends verification, reset and invitation mail through."""

    host: str | None = Field(
        None,
        description="Mail server host name. Unset: no mail is sent and features that "
        "need mail say so.",
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Mail server port. Default: 587 for starttls, 465 for tls, 25 for plain.",
    )
    security: Literal["starttls", "tls", "plain"] = Field(
        "starttls",
        description="`starttls` (upgrade a plain connection, port 587), `tls` (TLS from the "
        "start, port 465) or `plain` (no encryption; only for a relay on the same host).",
    )
    username: str | None = Field(None, description="User name to log in with, if any.")
    password: SecretStr | None = Field(None, description="Password to log in with, if any.")
    sender: str | None = Field(
        None,
        description="From address, e.g. `Project-W <transcripts@example.org>`. Required when "
        "host is set.",
    )
    ca_file: Path | None = Field(
        None,
        description="PEM file of certificate authorities to trust for the mail server, in "
        "addition to the system ones (for a private CA).",
    )
    timeout_seconds: float = Field(
        30, gt=0, le=600, description="Seconds to wait for the mail server before retrying."
    )
    max_attempts: int = Field(
        8,
        ge=1,
        le=100,
        description="Attempts to send one message before giving up; waits grow from 30 "
        "seconds to an hour between attempts.",
    )
    poll_seconds: float = Field(
        10,
        gt=0,
        le=3600,
        description="Seconds between two looks at the outbox for mail queued by another "
        "server instance or due for a retry.",
    )

    @property
    def configured(self) -> bool:
        return self.host is not None

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"starttls": 587, "tls": 465, "plain": 25}[self.security]

    @model_validator(mode="after")
    def _sender_needed(self) -> SmtpSettings:
        if self.host is not None and not self.sender:
            raise ValueError("smtp.sender is required when smtp.host is set")
        if self.sender is not None and not re.search(r"[^@\s<]+@[^@\s>]+", self.sender):
            raise ValueError("smtp.sender must contain an e-mail address")
        if (self.username is None) != (self.password is None):
            raise ValueError("smtp.username and smtp.password must be set together")
        return self


class TermsDocument(_Section):
    """One document users must accept (terms of service, privacy notice, ...)."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="Stable identifier, e.g. `terms` or `privacy` (lower case, digits, - and _).",
    )
    name: str = Field(min_length=1, max_length=200, description="Title shown to users.")
    version: int = Field(
        ge=1, description="Raise it when the text changes: everyone is asked to accept again."
    )
    text: str | None = Field(None, description="The document (Markdown), given inline.")
    file: Path | None = Field(None, description="A file holding the document (Markdown).")

    @model_validator(mode="after")
    def _text_or_file(self) -> TermsDocument:
        if (self.text is None) == (self.file is None):
            raise ValueError(f"terms document {self.id!r} needs exactly one of text and file")
        if self.file is not None and not self.file.is_file():
            raise ValueError(f"terms document {self.id!r}: file {self.file} does not exist")
        return self
