"""Typed dependency aliases shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from projectw.api.security import bearer_scheme, resolve_auth
from projectw.auth.access import check_admin, check_may_submit
from projectw.auth.accounts import AccountService
from projectw.auth.admin import AdminUserService
from projectw.auth.sessions import AuthContext
from projectw.db.models import User
from projectw.errors import Unauthorized
from projectw.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


# --- accounts and sign-in ----------------------------------------------------------------------


async def get_auth(
    request: Request,
    response: Response,
    _documented: Annotated[str | None, Depends(bearer_scheme)],
) -> AuthContext:
    context = await resolve_auth(request, response, strict=True)
    if context is None:
        raise Unauthorized("Sign in first.", code="not_authenticated")
    return context


async def get_optional_auth(
    request: Request,
    response: Response,
    _documented: Annotated[str | None, Depends(bearer_scheme)],
) -> AuthContext | None:
    return await resolve_auth(request, response, strict=False)


AuthDep = Annotated[AuthContext, Depends(get_auth)]
"""The signed-in caller's context: user, token id, whether it is an API token, admin rights."""
OptionalAuthDep = Annotated[AuthContext | None, Depends(get_optional_auth)]


async def get_current_user(auth: AuthDep) -> User:
    return auth.user


async def get_submitting_user(auth: AuthDep, runtime: RuntimeDep) -> User:
    check_may_submit(runtime.settings, auth.user)
    return auth.user


async def get_admin_user(auth: AuthDep) -> User:
    check_admin(auth)
    return auth.user


CurrentUser = Annotated[User, Depends(get_current_user)]
"""An active, signed-in user (session cookie or Bearer token)."""
SubmittingUser = Annotated[User, Depends(get_submitting_user)]
"""A CurrentUser who may submit work: address confirmed if required, current terms accepted."""
AdminUser = Annotated[User, Depends(get_admin_user)]
"""A user calling with admin rights: an admin's session, or an API token created as admin."""


async def get_accounts(runtime: RuntimeDep) -> AccountService:
    return AccountService(runtime.db, runtime.settings, runtime.mail, runtime.state)


async def get_admin_users(runtime: RuntimeDep) -> AdminUserService:
    return AdminUserService(runtime.db, runtime.settings, runtime.mail)


AccountsDep = Annotated[AccountService, Depends(get_accounts)]
AdminUsersDep = Annotated[AdminUserService, Depends(get_admin_users)]
