"""What administrators do with other people's accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.auth import messages
from projectw.auth.links import issue_link, link_url
from projectw.auth.passwords import check_password_rules, passwords_for
from projectw.auth.sessions import revoke_tokens
from projectw.auth.users import (
    add_local_user,
    delete_user_and_data,
    ensure_email_free,
    ensure_not_last_admin,
    find_by_email,
    normalise_email,
)
from projectw.config import Settings
from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import User
from projectw.errors import Forbidden, NotFound
from projectw.mail import Mailer


@dataclass(frozen=True)
class UserChanges:
    """Fields an admin may change; None leaves a field as it is."""

    email: str | None = None
    display_name: str | None = None
    password: str | None = None
    is_active: bool | None = None
    is_admin: bool | None = None


class AdminUserService:
    """Listing, creating, changing and deleting accounts."""

    def __init__(self, db: Database, settings: Settings, mail: Mailer) -> None:
        self.db = db
        self.settings = settings
        self.mail = mail
        self.passwords = passwords_for(settings.auth)

    async def list_users(
        self, *, offset: int = 0, limit: int = 50, query: str | None = None
    ) -> tuple[list[User], int]:
        """A page of users ordered by id, and how many match in all."""
        condition = None
        if query:
            pattern = f"%{query.lower()}%"
            condition = or_(User.email.like(pattern), func.lower(User.display_name).like(pattern))
        async with self.db.session() as session:
            count_query = select(func.count()).select_from(User)
            page_query = select(User).order_by(User.id).offset(offset).limit(limit)
            if condition is not None:
                count_query = count_query.where(condition)
                page_query = page_query.where(condition)
            total = int(await session.scalar(count_query) or 0)
            users = list(await session.scalars(page_query))
        return users, total

    async def find(self, email: str) -> User | None:
        async with self.db.session() as session:
            return await find_by_email(session, normalise_email(email))

    async def create_user(
        self,
        email: str,
        *,
        password: str | None,
        display_name: str | None = None,
        is_admin: bool = False,
        from_cli: bool = False,
    ) -> tuple[User, bool]:
        """Create a verified account; without a password, mail an invitation link.

        Returns the user and whether an invitation was queued.
        """
        if self.settings.auth.signup == "disabled" and not from_cli:
            raise Forbidden(
                "Local accounts are disabled on this server (auth.signup is `disabled`).",
                code="signup_disabled",
            )
        email = normalise_email(email)
        if password is not None:
            check_password_rules(password)
            password_hash: str | None = await self.passwords.hash(password)
        else:
            self.mail.require()
            password_hash = None
        hours = self.settings.auth.invite_link_hours
        async with self.db.write_session() as session:
            user = await add_local_user(
                session,
                email=email,
                password_hash=password_hash,
                display_name=display_name,
                is_admin=is_admin,
                verified=True,
            )
            if password_hash is None:
                token = await issue_link(
                    session,
                    purpose="reset_password",
                    lifetime=timedelta(hours=hours),
                    user_id=user.id,
                    email=email,
                )
                url = link_url(self.settings.base_url(), "reset_password", token)
                self.mail.queue(session, email, messages.invitation(url, hours))
            await session.commit()
        if password_hash is None:
            self.mail.wake()
        return user, password_hash is None

    async def _load(self, session: AsyncSession, user_id: int) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound(f"There is no user with id {user_id}.", code="user_not_found")
        return user

    async def update_user(self, user_id: int, changes: UserChanges) -> User:
        """Apply an admin's changes; disabling or a new password signs the user out everywhere."""
        password_hash = None
        if changes.password is not None:
            check_password_rules(changes.password)
            password_hash = await self.passwords.hash(changes.password)
        async with self.db.write_session() as session:
            user = await self._load(session, user_id)
            if changes.is_active is False or changes.is_admin is False:
                await ensure_not_last_admin(session, user)
            if changes.email is not None:
                email = normalise_email(changes.email)
                if email != user.email:
                    await ensure_email_free(session, email)
                    user.email = email
                    # The administrator vouches for the address.
                    user.email_verified_at = utcnow()
            if changes.display_name is not None:
                user.display_name = changes.display_name or None
            if changes.is_admin is not None:
                user.is_admin = changes.is_admin
            if changes.is_active is not None:
                user.is_active = changes.is_active
            if password_hash is not None:
                user.password_hash = password_hash
            if changes.is_active is False or password_hash is not None:
                await revoke_tokens(session, user.id)
            await session.commit()
        return user

    async def delete_user(self, user_id: int) -> None:
        async with self.db.write_session() as session:
            user = await self._load(session, user_id)
            await ensure_not_last_admin(session, user)
            await delete_user_and_data(session, user)
            await session.commit()
