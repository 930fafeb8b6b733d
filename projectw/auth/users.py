"""Finding, creating and deleting users; rules about e-mail addresses."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.config import AuthSettings, Settings
from projectw.db.base import utcnow
from projectw.db.models import Blob, Identity, Job, User
from projectw.errors import Conflict, InvalidInput

LOCAL_PROVIDER = "local"


def normalise_email(email: str, field: str = "email") -> str:
    """The address in the one form it is stored and compared in (lower case), or InvalidInput."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"Field '{field}': {exc}") from None
    return checked.normalized.lower()


def login_key(email: str) -> str:
    """The form of a typed address used for look-ups, without rejecting malformed input."""
    return email.strip().lower()


def domain_allowed(settings: AuthSettings, email: str) -> bool:
    return email.rsplit("@", 1)[-1] in settings.allowed_email_domains


def verification_required(settings: Settings) -> bool:
    """Whether users must confirm their address before submitting work."""
    required = settings.auth.require_email_verification
    return settings.smtp.configured if required is None else required


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def ensure_email_free(session: AsyncSession, email: str, field: str = "email") -> None:
    if await find_by_email(session, email) is not None:
        raise Conflict(
            f"An account with this e-mail address already exists (field '{field}').",
            code="email_taken",
        )


async def add_local_user(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str | None,
    display_name: str | None = None,
    is_admin: bool = False,
    verified: bool = False,
) -> User:
    """Create a user with a local identity (flushed, so it has an id)."""
    await ensure_email_free(session, email)
    user = User(
        email=email,
        display_name=display_name,
        password_hash=password_hash,
        is_admin=is_admin,
        is_active=True,
        email_verified_at=utcnow() if verified else None,
        accepted_tos={},
    )
    session.add(user)
    await session.flush()
    session.add(Identity(user_id=user.id, provider=LOCAL_PROVIDER, subject=str(user.id)))
    await session.flush()
    return user


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def other_active_admins(session: AsyncSession, user_id: int) -> int:
    query = select(func.count()).where(
        User.is_admin.is_(True), User.is_active.is_(True), User.id != user_id
    )
    return int(await session.scalar(query) or 0)


async def ensure_not_last_admin(session: AsyncSession, user: User) -> None:
    """Refuse a change that would leave the server with no active administrator."""
    if user.is_admin and user.is_active and await other_active_admins(session, user.id) == 0:
        raise Conflict(
            "This is the only active administrator; make someone else an administrator first.",
            code="last_admin",
        )


async def delete_user_and_data(session: AsyncSession, user: User) -> None:
    """Delete the user with every job, recording and transcript they own."""
    rows = await session.execute(
        select(Job.audio_blob_id, Job.transcript_blob_id).where(Job.user_id == user.id)
    )
    blob_ids = {blob_id for row in rows for blob_id in row if blob_id is not None}
    await session.execute(delete(Job).where(Job.user_id == user.id))
    if blob_ids:
        # A blob is shared only between a job and its retries, which have the same owner;
        # the check keeps that true even if sharing ever widens.
        still_used = select(Job.id).where(
            or_(Job.audio_blob_id == Blob.id, Job.transcript_blob_id == Blob.id)
        )
        await session.execute(delete(Blob).where(Blob.id.in_(blob_ids), ~still_used.exists()))
    await session.execute(delete(User).where(User.id == user.id))
