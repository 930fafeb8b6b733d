"""Sign-in and account recovery: setup, sign-up, login, logout, e-mail links, password reset."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from projectw.api.account_schemas import (
    AuthOptions,
    Detail,
    EmailRequest,
    LinkRequest,
    LoginRequest,
    ResetPasswordRequest,
    SetupRequest,
    SignedInResponse,
    SignupRequest,
    SignupResponse,
    VerifiedResponse,
)
from projectw.api.deps import AccountsDep, AuthDep, CurrentUser, RuntimeDep
from projectw.api.security import check_origin, clear_session_cookie, client_of, set_session_cookie
from projectw.auth.passwords import MAX_LENGTH, MIN_LENGTH
from projectw.auth.users import verification_required

router = APIRouter(prefix="/api/auth", tags=["auth"], dependencies=[Depends(check_origin)])

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "description": "The e-mail address."},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}


async def _login_fields(request: Request) -> LoginRequest:
    """JSON ``{email, password}`` or the OAuth2 password form (``username`` is the e-mail)."""
    content_type = request.headers.get("content-type", "")
    data: Any
    if content_type.startswith(_FORM_TYPES):
        form = await request.form()
        data = {"email": form.get("username", form.get("email")), "password": form.get("password")}
        data = {key: value for key, value in data.items() if value is not None}
    else:
        try:
            data = await request.json()
        except ValueError:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "Body is not valid JSON"}]
            ) from None
    try:
        return LoginRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


@router.get("/settings")
async def auth_options(runtime: RuntimeDep) -> AuthOptions:
    """Sign-up mode, whether mail works, and the password rules."""
    settings = runtime.settings
    return AuthOptions(
        signup=settings.auth.signup,
        allowed_email_domains=settings.auth.allowed_email_domains,
        mail_configured=settings.smtp.configured,
        verification_required=verification_required(settings),
        password_min_length=MIN_LENGTH,
        password_max_length=MAX_LENGTH,
    )


@router.post("/setup", status_code=status.HTTP_201_CREATED)
async def setup(
    body: SetupRequest,
    request: Request,
    response: Response,
    accounts: AccountsDep,
    runtime: RuntimeDep,
) -> SignedInResponse:
    """Create the first administrator with the one-time link printed on first start."""
    signed_in = await accounts.setup(
        body.token, body.email, body.password, body.display_name, client_of(request)
    )
    set_session_cookie(response, request, runtime.settings, signed_in.session.token)
    return SignedInResponse.of(signed_in.session, signed_in.user, runtime.settings)


@router.post("/signup", status_code=status.HTTP_201_CREATED)
async def signup(
    body: SignupRequest,
    request: Request,
    response: Response,
    accounts: AccountsDep,
    runtime: RuntimeDep,
) -> SignupResponse:
    """Create an account (as the server's signup mode allows) and sign in."""
    signed_in, mailed = await accounts.signup(
        body.email, body.password, body.display_name, client_of(request)
    )
    set_session_cookie(response, request, runtime.settings, signed_in.session.token)
    base = SignedInResponse.of(signed_in.session, signed_in.user, runtime.settings)
    return SignupResponse(**base.model_dump(), verification_sent=mailed)


@router.post("/login", openapi_extra=_LOGIN_BODY)
async def login(
    request: Request, response: Response, accounts: AccountsDep, runtime: RuntimeDep
) -> SignedInResponse:
    """Sign in with e-mail and password; sets the session cookie and returns the token."""
    fields = await _login_fields(request)
    signed_in = await accounts.login(fields.email, fields.password, client_of(request))
    set_session_cookie(response, request, runtime.settings, signed_in.session.token)
    return SignedInResponse.of(signed_in.session, signed_in.user, runtime.settings)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    auth: AuthDep, request: Request, response: Response, accounts: AccountsDep, runtime: RuntimeDep
) -> None:
    """End this session (or revoke the API token used for this request)."""
    await accounts.logout(auth)
    clear_session_cookie(response, request, runtime.settings)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(
    auth: AuthDep, request: Request, response: Response, accounts: AccountsDep, runtime: RuntimeDep
) -> None:
    """End every browser session of this account, this one included (API tokens stay)."""
    await accounts.logout_everywhere(auth)
    clear_session_cookie(response, request, runtime.settings)


@router.post("/verify-email")
async def verify_email(
    body: LinkRequest, request: Request, accounts: AccountsDep
) -> VerifiedResponse:
    """Use a link from a verification or e-mail change message."""
    user = await accounts.verify_email(body.token, client_of(request))
    return VerifiedResponse(email=user.email)


@router.post("/resend-verification", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(user: CurrentUser, request: Request, accounts: AccountsDep) -> Detail:
    """Send a new verification link to the signed-in user's address."""
    await accounts.resend_verification(user, client_of(request))
    return Detail(detail=f"A new confirmation link is on its way to {user.email}.")


@router.post("/request-password-reset", status_code=status.HTTP_202_ACCEPTED)
async def request_password_reset(
    body: EmailRequest, request: Request, accounts: AccountsDep
) -> Detail:
    """Mail a password reset link, if an account with this address exists."""
    await accounts.request_password_reset(body.email, client_of(request))
    return Detail(
        detail="If an account with this address exists, a reset link is on its way to it."
    )


@router.post("/reset-password")
async def reset_password(
    body: ResetPasswordRequest, request: Request, accounts: AccountsDep
) -> Detail:
    """Choose a new password through a reset or invitation link; signs out everywhere."""
    await accounts.reset_password(body.token, body.password, client_of(request))
    return Detail(detail="Your password has been changed; sign in with the new one.")
