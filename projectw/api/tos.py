"""Terms of service documents users must accept before submitting work."""

from __future__ import annotations

from fastapi import APIRouter

from projectw.api.account_schemas import TermsList, TermsOut
from projectw.api.deps import OptionalAuthDep, RuntimeDep
from projectw.auth.tos import accepted_version, documents

router = APIRouter(prefix="/api", tags=["terms"])


@router.get("/tos")
async def list_terms(runtime: RuntimeDep, auth: OptionalAuthDep) -> TermsList:
    """Every terms document in its current version; with the caller's accepted version."""
    accepted = (auth.user.accepted_tos or {}) if auth is not None else {}
    items = [
        TermsOut(
            id=document.id,
            name=document.name,
            version=document.version,
            text=document.text,
            accepted_version=accepted_version(accepted, document.id) if auth else None,
        )
        for document in documents(runtime.settings)
    ]
    return TermsList(items=items, count=len(items))
