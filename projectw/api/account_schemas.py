"""Request and response bodies of the account routes (auth, users, admin users, terms)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from projectw.auth.passwords import MAX_LENGTH, MIN_LENGTH
from projectw.auth.sessions import AuthContext, IssuedToken
from projectw.auth.tos import pending
from projectw.auth.users import verification_required
from projectw.config import Settings
from projectw.db.models import AuthToken, User

Email = Annotated[EmailStr, Field(max_length=254, examples=["ada@example.org"])]
NewPassword = Annotated[
    str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH, description="12 to 1024 characters.")
]
AnyPassword = Annotated[str, Field(max_length=MAX_LENGTH)]
LinkTokenField = Annotated[str, Field(min_length=1, max_length=200)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ------------------------------------------------------------------------------------


class SetupRequest(_Request):
    token: LinkTokenField
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None


class SignupRequest(_Request):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None


class LoginRequest(_Request):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: AnyPassword


class LinkRequest(_Request):
    token: LinkTokenField


class ResetPasswordRequest(_Request):
    token: LinkTokenField
    password: NewPassword


class EmailRequest(_Request):
    email: Email


class ProfileUpdate(_Request):
    display_name: DisplayName | None = Field(None, description="Empty clears it.")
    email: Email | None = Field(
        None, description="New address; a link is sent there and the change happens when used."
    )
    current_password: AnyPassword | None = Field(
        None, description="Required when changing the e-mail address."
    )


class PasswordChange(_Request):
    current_password: AnyPassword
    new_password: NewPassword


class DeleteAccount(_Request):
    password: AnyPassword | None = Field(
        None, description="Required for accounts that have a password."
    )


class TokenCreate(_Request):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    expires_at: AwareDatetime | None = Field(None, description="Unset: never expires.")
    admin: bool = Field(False, description="Admin rights; only an administrator may ask.")


class AcceptTerms(_Request):
    tos_id: Annotated[str, Field(min_length=1, max_length=40)]
    version: Annotated[int, Field(ge=1)]


class AdminUserCreate(_Request):
    email: Email
    password: NewPassword | None = Field(
        None, description="Unset: an invitation link to choose one is mailed."
    )
    display_name: DisplayName | None = None
    is_admin: bool = False


class AdminUserUpdate(_Request):
    email: Email | None = None
    display_name: DisplayName | None = None
    password: NewPassword | None = Field(None, description="Signs the user out everywhere.")
    is_active: bool | None = Field(None, description="False disables the account.")
    is_admin: bool | None = None


# --- responses -----------------------------------------------------------------------------------


class Detail(BaseModel):
    detail: str


class AuthOptions(BaseModel):
    """What sign-in screens need to know about this server."""

    signup: Literal["open", "domains", "invite", "disabled"]
    allowed_email_domains: list[str]
    mail_configured: bool = Field(description="Password reset and verification mails work.")
    verification_required: bool
    password_min_length: int
    password_max_length: int


class UserOut(BaseModel):
    """The signed-in user, as the user sees themself."""

    id: int
    email: str
    display_name: str | None
    is_admin: bool
    email_verified: bool
    verification_required: bool
    accepted_tos: dict[str, int]
    pending_tos: list[str] = Field(description="Terms documents still to accept.")
    can_submit: bool
    has_password: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User, settings: Settings) -> UserOut:
        accepted = user.accepted_tos or {}
        needs_verification = verification_required(settings)
        missing = [document.id for document in pending(settings, accepted)]
        verified = user.email_verified_at is not None
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            is_admin=user.is_admin,
            email_verified=verified,
            verification_required=needs_verification,
            accepted_tos={k: v for k, v in accepted.items() if isinstance(v, int)},
            pending_tos=missing,
            can_submit=(verified or not needs_verification) and not missing,
            has_password=user.password_hash is not None,
            created_at=user.created_at,
        )


class ProfileOut(UserOut):
    pending_email: str | None = Field(
        None, description="Address a confirmation link was just sent to."
    )


class SignedInResponse(BaseModel):
    """A new session. ``access_token``/``token_type`` repeat it for OAuth2 clients (Swagger)."""

    token: str
    expires_at: datetime | None
    access_token: str
    token_type: str = "bearer"
    user: UserOut

    @classmethod
    def of(cls, issued: IssuedToken, user: User, settings: Settings) -> SignedInResponse:
        return cls(
            token=issued.token,
            expires_at=issued.expires_at,
            access_token=issued.token,
            user=UserOut.of(user, settings),
        )


class SignupResponse(SignedInResponse):
    verification_sent: bool


class VerifiedResponse(BaseModel):
    email: str


class PasswordChanged(BaseModel):
    detail: str
    signed_out_sessions: int


class SessionOut(BaseModel):
    id: int
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    user_agent: str | None
    created_from: str | None
    current: bool

    @classmethod
    def of(cls, row: AuthToken, auth: AuthContext) -> SessionOut:
        return cls(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            user_agent=row.user_agent,
            created_from=row.created_from,
            current=auth.kind == "session" and auth.token_id == row.id,
        )


class SessionList(BaseModel):
    items: list[SessionOut]
    count: int


class TokenOut(BaseModel):
    id: int
    name: str
    is_admin: bool
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, row: AuthToken) -> TokenOut:
        return cls(
            id=row.id,
            name=row.name or "",
            is_admin=row.is_admin,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
        )


class TokenCreated(BaseModel):
    id: int
    name: str
    is_admin: bool
    expires_at: datetime | None
    token: str = Field(description="Shown only now; store it safely.")


class TokenList(BaseModel):
    items: list[TokenOut]
    count: int


class TermsOut(BaseModel):
    id: str
    name: str
    version: int
    text: str
    accepted_version: int | None = Field(
        None, description="The version the signed-in user accepted, if any."
    )


class TermsList(BaseModel):
    items: list[TermsOut]
    count: int


class AdminUserOut(BaseModel):
    id: int
    email: str
    display_name: str | None
    is_admin: bool
    is_active: bool
    email_verified: bool
    has_password: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> AdminUserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            is_admin=user.is_admin,
            is_active=user.is_active,
            email_verified=user.email_verified_at is not None,
            has_password=user.password_hash is not None,
            created_at=user.created_at,
        )


class AdminUserList(BaseModel):
    items: list[AdminUserOut]
    count: int
    offset: int
    limit: int


class AdminUserCreated(AdminUserOut):
    invitation_sent: bool
