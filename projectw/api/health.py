"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from projectw.api.deps import RuntimeDep
from projectw.db import migrate

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 3.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (no I/O)."""
    return {"status": "ok"}


async def _check(coro: Any) -> dict[str, Any]:
    try:
        detail = await asyncio.wait_for(coro, CHECK_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    return {"ok": True, **(detail or {})}


@router.get("/readyz", responses={503: {"description": "A check failed"}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Database reachable, migrations at head, state backend reachable."""

    async def migrations() -> dict[str, Any]:
        current = await migrate.current_revision(runtime.db)
        if current != runtime.head_revision:
            raise RuntimeError(f"database at {current}, this version needs {runtime.head_revision}")
        return {"revision": current}

    checks = {
        "database": await _check(runtime.db.ping()),
        "migrations": await _check(migrations()),
        "state": await _check(runtime.state.ping()),
    }
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )
