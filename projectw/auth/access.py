"""Who may do what beyond being signed in: submitting work, administering."""

from __future__ import annotations

from projectw.auth.sessions import AuthContext
from projectw.auth.tos import pending
from projectw.auth.users import verification_required
from projectw.config import Settings
from projectw.db.models import User
from projectw.errors import Forbidden


def check_may_submit(settings: Settings, user: User) -> None:
    """Raise Forbidden unless the user confirmed their address (if required) and the terms."""
    if verification_required(settings) and user.email_verified_at is None:
        raise Forbidden(
            "Confirm your e-mail address before submitting work; the link is in your inbox.",
            code="email_not_verified",
        )
    missing = pending(settings, user.accepted_tos or {})
    if missing:
        names = ", ".join(repr(document.name) for document in missing)
        raise Forbidden(
            f"Accept the current version of {names} before submitting work.",
            code="tos_not_accepted",
        )


def check_admin(auth: AuthContext) -> None:
    """Raise Forbidden unless the credential carries admin rights."""
    if not auth.is_admin:
        raise Forbidden(
            "This needs administrator rights (an admin's session, or an API token created "
            "with admin rights).",
            code="admin_required",
        )
