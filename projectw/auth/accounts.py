"""What people do with their own account: set up, sign up, sign in, verify, recover, change.

Rate limits, password rules and mail all apply here, so the HTTP routes, the CLI and tests
share one set of rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.auth import messages
from projectw.auth.links import Purpose, issue_link, link_url, use_link
from projectw.auth.passwords import check_password_rules, passwords_for
from projectw.auth.ratelimit import RateLimiter
from projectw.auth.sessions import AuthContext, IssuedToken, revoke_tokens, start_session
from projectw.auth.tos import accept
from projectw.auth.users import (
    LOCAL_PROVIDER,
    add_local_user,
    count_users,
    delete_user_and_data,
    domain_allowed,
    ensure_email_free,
    ensure_not_last_admin,
    find_by_email,
    login_key,
    normalise_email,
    verification_required,
)
from projectw.config import Settings
from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import Identity, User
from projectw.errors import Conflict, Forbidden, NotFound, Unauthorized
from projectw.mail import Mailer
from projectw.state import StateBackend


@dataclass(frozen=True)
class Client:
    """Where a request comes from, for rate limits and the session list."""

    address: str
    user_agent: str | None = None


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: IssuedToken


class AccountService:
    """Self-service account operations."""

    def __init__(self, db: Database, settings: Settings, mail: Mailer, state: StateBackend):
        self.db = db
        self.settings = settings
        self.mail = mail
        self.passwords = passwords_for(settings.auth)
        self.limits = settings.auth.rate_limits
        self.limiter = RateLimiter(state, self.limits.window_seconds)

    # --- helpers -----------------------------------------------------------------------------

    def _queue_link(
        self, session: AsyncSession, recipient: str, purpose: Purpose, token: str, hours: float
    ) -> None:
        url = link_url(self.settings.base_url(), purpose, token)
        builders = {
            "verify_email": messages.verify_email,
            "change_email": messages.change_email,
            "reset_password": messages.reset_password,
        }
        self.mail.queue(session, recipient, builders[purpose](url, hours))

    async def _limit_mail(self, client: Client, account: str) -> None:
        await self.limiter.hit(
            "mail-address", client.address, self.limits.mail_requests_per_address
        )
        await self.limiter.hit("mail-account", account, self.limits.mail_requests_per_account)

    async def _sign_in(self, session: AsyncSession, user: User, client: Client) -> IssuedToken:
        await session.execute(
            update(Identity)
            .where(Identity.user_id == user.id, Identity.provider == LOCAL_PROVIDER)
            .values(last_login_at=utcnow())
        )
        return await start_session(
            session, self.settings.auth, user, user_agent=client.user_agent, address=client.address
        )

    async def _load(self, session: AsyncSession, user_id: int) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("This account no longer exists.", code="user_not_found")
        return user

    async def _check_password(self, user: User, password: str) -> None:
        if not await self.passwords.verify(user.password_hash, password):
            raise Forbidden("The current password is wrong.", code="wrong_password")

    # --- first start, sign-up, sign-in -----------------------------------------------------

    async def setup(
        self, token: str, email: str, password: str, display_name: str | None, client: Client
    ) -> SignedIn:
        """Create the first administrator through the one-time setup link."""
        await self.limiter.hit("link-address", client.address, self.limits.link_uses_per_address)
        email = normalise_email(email)
        check_password_rules(password)
        password_hash = await self.passwords.hash(password)
        async with self.db.write_session() as session:
            if await count_users(session) > 0:
                raise Conflict(
                    "This server has already been set up; sign in instead.", code="already_set_up"
                )
            await use_link(session, token, {"setup"})
            user = await add_local_user(
                session,
                email=email,
                password_hash=password_hash,
                display_name=display_name,
                is_admin=True,
                verified=True,
            )
            issued = await self._sign_in(session, user, client)
            await session.commit()
        return SignedIn(user, issued)

    async def signup(
        self, email: str, password: str, display_name: str | None, client: Client
    ) -> tuple[SignedIn, bool]:
        """Create an account as the signup mode allows; returns it and whether mail was sent."""
        mode = self.settings.auth.signup
        if mode == "disabled":
            raise Forbidden("Sign-up is disabled on this server.", code="signup_disabled")
        if mode == "invite":
            raise Forbidden(
                "Accounts on this server are created by an administrator; ask one to invite you.",
                code="signup_invite_only",
            )
        email = normalise_email(email)
        if mode == "domains" and not domain_allowed(self.settings.auth, email):
            raise Forbidden(
                "Sign-up is open only to addresses at "
                + ", ".join(self.settings.auth.allowed_email_domains)
                + ".",
                code="email_domain_not_allowed",
            )
        check_password_rules(password)
        needs_mail = verification_required(self.settings)
        if needs_mail:
            self.mail.require()
        await self.limiter.hit("signup-address", client.address, self.limits.signup_per_address)
        password_hash = await self.passwords.hash(password)
        async with self.db.write_session() as session:
            user = await add_local_user(
                session, email=email, password_hash=password_hash, display_name=display_name
            )
            if needs_mail:
                lifetime = self.settings.auth.verification_link_hours
                token = await issue_link(
                    session,
                    purpose="verify_email",
                    lifetime=timedelta(hours=lifetime),
                    user_id=user.id,
                    email=email,
                )
                self._queue_link(session, email, "verify_email", token, lifetime)
            issued = await self._sign_in(session, user, client)
            await session.commit()
        if needs_mail:
            self.mail.wake()
        return SignedIn(user, issued), needs_mail

    async def login(self, email: str, password: str, client: Client) -> SignedIn:
        """Check the password and start a session.

        An unknown address and a wrong password cost the same (a full hash) and give the
        same answer; failures count against the address typed, known or not.
        """
        await self.limiter.hit("login-address", client.address, self.limits.login_per_address)
        key = login_key(email)
        await self.limiter.check_blocked("login-account", key)
        async with self.db.session() as session:
            user = await find_by_email(session, key)
        if not await self.passwords.verify(user.password_hash if user else None, password):
            await self.limiter.count_failure(
                "login-account", key, self.limits.login_failures_per_account
            )
            raise Unauthorized(
                "The e-mail address or the password is wrong.", code="invalid_credentials"
            )
        assert user is not None and user.password_hash is not None
        if not user.is_active:
            raise Forbidden(
                "This account has been disabled; ask an administrator.", code="account_disabled"
            )
        new_hash = (
            await self.passwords.hash(password)
            if self.passwords.needs_rehash(user.password_hash)
            else None
        )
        async with self.db.write_session() as session:
            user = await self._load(session, user.id)
            if new_hash is not None:
                user.password_hash = new_hash
            issued = await self._sign_in(session, user, client)
            await session.commit()
        return SignedIn(user, issued)

    async def logout(self, auth: AuthContext) -> None:
        """Revoke the credential this request was made with."""
        async with self.db.session() as session:
            await revoke_tokens(session, auth.user.id, kinds=(auth.kind,), only_id=auth.token_id)
            await session.commit()

    async def logout_everywhere(self, auth: AuthContext) -> int:
        """Revoke every browser session of the user, this one included."""
        async with self.db.session() as session:
            count = await revoke_tokens(session, auth.user.id, kinds=("session",))
            await session.commit()
        return count

    # --- e-mail verification and change ----------------------------------------------------

    async def resend_verification(self, user: User, client: Client) -> None:
        self.mail.require()
        if user.email_verified_at is not None:
            raise Conflict("This e-mail address is already confirmed.", code="already_verified")
        await self._limit_mail(client, f"user:{user.id}")
        lifetime = self.settings.auth.verification_link_hours
        async with self.db.write_session() as session:
            current = await self._load(session, user.id)
            token = await issue_link(
                session,
                purpose="verify_email",
                lifetime=timedelta(hours=lifetime),
                user_id=current.id,
                email=current.email,
            )
            self._queue_link(session, current.email, "verify_email", token, lifetime)
            await session.commit()
        self.mail.wake()

    async def verify_email(self, token: str, client: Client) -> User:
        """Use a verification or e-mail change link; returns the updated user."""
        await self.limiter.hit("link-address", client.address, self.limits.link_uses_per_address)
        notify: tuple[str, str] | None = None
        async with self.db.write_session() as session:
            link = await use_link(session, token, {"verify_email", "change_email"})
            assert link.user_id is not None and link.email is not None
            user = await self._load(session, link.user_id)
            if link.purpose == "change_email":
                if link.email != user.email:
                    await ensure_email_free(session, link.email)
                    if self.mail.configured:
                        self.mail.queue(session, user.email, messages.email_changed(link.email))
                        notify = (user.email, link.email)
                    user.email = link.email
            elif link.email != user.email:
                raise Conflict(
                    "This link confirms an address the account no longer uses.",
                    code="link_invalid",
                )
            user.email_verified_at = utcnow()
            await session.commit()
        if notify is not None:
            self.mail.wake()
        return user

    async def request_email_change(
        self, user: User, new_email: str, password: str, client: Client
    ) -> str:
        """Send a confirmation link to the new address; the change happens when it is used."""
        self.mail.require()
        new_email = normalise_email(new_email)
        await self._limit_mail(client, f"user:{user.id}")
        if new_email == user.email:
            raise Conflict("This is already your e-mail address.", code="email_unchanged")
        await self._check_password(user, password)
        lifetime = self.settings.auth.verification_link_hours
        async with self.db.write_session() as session:
            await ensure_email_free(session, new_email)
            token = await issue_link(
                session,
                purpose="change_email",
                lifetime=timedelta(hours=lifetime),
                user_id=user.id,
                email=new_email,
            )
            self._queue_link(session, new_email, "change_email", token, lifetime)
            await session.commit()
        self.mail.wake()
        return new_email

    # --- passwords -------------------------------------------------------------------------

    async def request_password_reset(self, email: str, client: Client) -> None:
        """Mail a reset link if the account exists; the answer never says whether it does."""
        self.mail.require()
        key = login_key(email)
        await self._limit_mail(client, key)
        lifetime_hours = self.settings.auth.reset_link_minutes / 60
        async with self.db.write_session() as session:
            user = await find_by_email(session, key)
            if user is None or not user.is_active:
                return
            token = await issue_link(
                session,
                purpose="reset_password",
                lifetime=timedelta(hours=lifetime_hours),
                user_id=user.id,
                email=user.email,
            )
            self._queue_link(session, user.email, "reset_password", token, lifetime_hours)
            await session.commit()
        self.mail.wake()

    async def reset_password(self, token: str, password: str, client: Client) -> User:
        """Set a new password through a reset (or invitation) link; signs out everywhere."""
        await self.limiter.hit("link-address", client.address, self.limits.link_uses_per_address)
        check_password_rules(password)
        password_hash = await self.passwords.hash(password)
        async with self.db.write_session() as session:
            link = await use_link(session, token, {"reset_password"})
            assert link.user_id is not None
            user = await self._load(session, link.user_id)
            user.password_hash = password_hash
            # The link reached the account's mailbox: that proves the address.
            if link.email == user.email and user.email_verified_at is None:
                user.email_verified_at = utcnow()
            await revoke_tokens(session, user.id)
            await session.commit()
        return user

    async def change_password(self, auth: AuthContext, current: str, new: str) -> int:
        """Replace the password; other browser sessions are signed out. Returns how many."""
        check_password_rules(new, "new_password")
        await self._check_password(auth.user, current)
        password_hash = await self.passwords.hash(new)
        keep = auth.token_id if auth.kind == "session" else None
        async with self.db.write_session() as session:
            user = await self._load(session, auth.user.id)
            user.password_hash = password_hash
            revoked = await revoke_tokens(session, user.id, kinds=("session",), keep_id=keep)
            await session.commit()
        return revoked

    # --- profile, terms, deletion ----------------------------------------------------------

    async def update_profile(self, user: User, *, display_name: str | None) -> User:
        async with self.db.write_session() as session:
            current = await self._load(session, user.id)
            current.display_name = display_name
            await session.commit()
        return current

    async def accept_terms(self, user: User, tos_id: str, version: int) -> User:
        async with self.db.write_session() as session:
            current = await self._load(session, user.id)
            current.accepted_tos = accept(
                self.settings, current.accepted_tos or {}, tos_id, version
            )
            await session.commit()
        return current

    async def delete_account(self, user: User, password: str | None) -> None:
        """Delete the account and everything it owns, after confirming the password."""
        if user.password_hash is not None:
            await self._check_password(user, password or "")
        async with self.db.write_session() as session:
            current = await self._load(session, user.id)
            await ensure_not_last_admin(session, current)
            await delete_user_and_data(session, current)
            await session.commit()
