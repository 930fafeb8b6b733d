"""The signed-in user's own account: profile, password, sessions, API tokens, terms, deletion."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from projectw.api.account_schemas import (
    AcceptTerms,
    DeleteAccount,
    PasswordChange,
    PasswordChanged,
    ProfileOut,
    ProfileUpdate,
    SessionList,
    SessionOut,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenOut,
    UserOut,
)
from projectw.api.deps import AccountsDep, AuthDep, CurrentUser, RuntimeDep
from projectw.api.security import clear_session_cookie, client_of
from projectw.auth import sessions
from projectw.auth.apitokens import issue_api_token
from projectw.errors import InvalidInput, NotFound

router = APIRouter(prefix="/api/users/me", tags=["users"])


@router.get("")
async def get_me(user: CurrentUser, runtime: RuntimeDep) -> UserOut:
    """The signed-in user."""
    return UserOut.of(user, runtime.settings)


@router.patch("")
async def update_me(
    body: ProfileUpdate,
    user: CurrentUser,
    request: Request,
    accounts: AccountsDep,
    runtime: RuntimeDep,
) -> ProfileOut:
    """Change the display name, or ask to change the e-mail address (confirmed by mail)."""
    pending_email = None
    if body.email is not None and body.email.lower() != user.email:
        if body.current_password is None:
            raise InvalidInput("Field 'current_password' is required to change the e-mail address.")
        pending_email = await accounts.request_email_change(
            user, body.email, body.current_password, client_of(request)
        )
    if "display_name" in body.model_fields_set:
        user = await accounts.update_profile(user, display_name=body.display_name or None)
    profile = UserOut.of(user, runtime.settings)
    return ProfileOut(**profile.model_dump(), pending_email=pending_email)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(
    body: DeleteAccount,
    user: CurrentUser,
    request: Request,
    response: Response,
    accounts: AccountsDep,
    runtime: RuntimeDep,
) -> None:
    """Delete this account with all its jobs, recordings and transcripts."""
    await accounts.delete_account(user, body.password)
    clear_session_cookie(response, request, runtime.settings)


@router.post("/password")
async def change_password(
    body: PasswordChange, auth: AuthDep, accounts: AccountsDep
) -> PasswordChanged:
    """Change the password; every other browser session is signed out."""
    revoked = await accounts.change_password(auth, body.current_password, body.new_password)
    return PasswordChanged(detail="Your password has been changed.", signed_out_sessions=revoked)


@router.get("/sessions")
async def list_sessions(auth: AuthDep, runtime: RuntimeDep) -> SessionList:
    """Browser sessions of this account, newest first."""
    rows = await sessions.list_tokens(runtime.db, auth.user.id, "session")
    return SessionList(items=[SessionOut.of(row, auth) for row in rows], count=len(rows))


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    session_id: int, auth: AuthDep, request: Request, response: Response, runtime: RuntimeDep
) -> None:
    """Sign out one session (takes effect immediately)."""
    if not await sessions.revoke_one(runtime.db, auth.user.id, session_id, "session"):
        raise NotFound("You have no session with this id.", code="session_not_found")
    if auth.kind == "session" and auth.token_id == session_id:
        clear_session_cookie(response, request, runtime.settings)


@router.get("/tokens")
async def list_tokens(auth: AuthDep, runtime: RuntimeDep) -> TokenList:
    """API tokens of this account (never the tokens themselves), newest first."""
    rows = await sessions.list_tokens(runtime.db, auth.user.id, "api")
    return TokenList(items=[TokenOut.of(row) for row in rows], count=len(rows))


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_token(
    body: TokenCreate, auth: AuthDep, request: Request, runtime: RuntimeDep
) -> TokenCreated:
    """Create an API token; it is shown only in this answer."""
    issued = await issue_api_token(
        runtime.db,
        auth,
        name=body.name,
        expires_at=body.expires_at,
        admin=body.admin,
        address=client_of(request).address,
    )
    return TokenCreated(
        id=issued.id,
        name=body.name,
        is_admin=body.admin,
        expires_at=issued.expires_at,
        token=issued.token,
    )


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(token_id: int, auth: AuthDep, runtime: RuntimeDep) -> None:
    """Revoke an API token (takes effect immediately)."""
    if not await sessions.revoke_one(runtime.db, auth.user.id, token_id, "api"):
        raise NotFound("You have no API token with this id.", code="token_not_found")


@router.post("/accept-tos")
async def accept_tos(
    body: AcceptTerms, user: CurrentUser, accounts: AccountsDep, runtime: RuntimeDep
) -> UserOut:
    """Accept the current version of a terms document."""
    updated = await accounts.accept_terms(user, body.tos_id, body.version)
    return UserOut.of(updated, runtime.settings)
