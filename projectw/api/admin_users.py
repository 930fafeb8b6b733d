"""Administrators manage accounts: list, create (or invite), disable, grant admin, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from projectw.api.account_schemas import (
    AdminUserCreate,
    AdminUserCreated,
    AdminUserList,
    AdminUserOut,
    AdminUserUpdate,
)
from projectw.api.deps import AdminUser, AdminUsersDep
from projectw.auth.admin import UserChanges

router = APIRouter(prefix="/api/admin/users", tags=["admin"])


@router.get("")
async def list_users(
    _admin: AdminUser,
    users: AdminUsersDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    q: Annotated[str | None, Query(max_length=254, description="Part of e-mail or name.")] = None,
) -> AdminUserList:
    """Accounts ordered by id, a page at a time, with the total count."""
    page, count = await users.list_users(offset=offset, limit=limit, query=q)
    return AdminUserList(
        items=[AdminUserOut.of(user) for user in page], count=count, offset=offset, limit=limit
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: AdminUserCreate, _admin: AdminUser, users: AdminUsersDep
) -> AdminUserCreated:
    """Create an account; without a password, the person is mailed a link to choose one."""
    user, invited = await users.create_user(
        body.email, password=body.password, display_name=body.display_name, is_admin=body.is_admin
    )
    return AdminUserCreated(**AdminUserOut.of(user).model_dump(), invitation_sent=invited)


@router.patch("/{user_id}")
async def update_user(
    user_id: int, body: AdminUserUpdate, _admin: AdminUser, users: AdminUsersDep
) -> AdminUserOut:
    """Disable or enable, grant or revoke admin, or change the address, name or password."""
    changes = UserChanges(
        email=body.email,
        display_name=(body.display_name or "") if "display_name" in body.model_fields_set else None,
        password=body.password,
        is_active=body.is_active,
        is_admin=body.is_admin,
    )
    return AdminUserOut.of(await users.update_user(user_id, changes))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: int, _admin: AdminUser, users: AdminUsersDep) -> None:
    """Delete an account with all its jobs, recordings and transcripts."""
    await users.delete_user(user_id)
