"""Runner tokens for admins: create (the token is shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from projectw.api.deps import AdminUser, RuntimeDep
from projectw.jobs.queue import registry

router = APIRouter(prefix="/api/admin/runners", tags=["admin"])


class CreateRunnerRequest(BaseModel):
    name: str = Field(min_length=1, max_length=40, description="A name to recognise it by.")


class CreatedRunner(BaseModel):
    id: int
    token: str = Field(description="The runner's token; shown only this once.")


class RunnerJob(BaseModel):
    id: int
    status: str
    stage: str | None
    progress: float


class RunnerInfo(BaseModel):
    id: int
    name: str = Field(description="The name given when the token was created.")
    registered_name: str | None = Field(description="The name the runner registered with.")
    embedded: bool = Field(description="The runner inside a server process.")
    online: bool
    busy: bool
    accepting_jobs: bool
    current_job: RunnerJob | None
    last_heartbeat_at: datetime | None
    online_since: datetime | None
    version: str | None
    git_hash: str | None
    source_code_url: str | None
    priority: int
    capabilities: dict[str, Any] | None = Field(
        description="What it serves; null for a Project-W 0.6 runner (WhisperX, 0.6 models)."
    )
    jobs_succeeded: int
    jobs_failed: int
    created_at: datetime
    revoked_at: datetime | None


class RunnerList(BaseModel):
    runners: list[RunnerInfo]
    count: int
    online: int


def _info(state: registry.RunnerState) -> RunnerInfo:
    runner = state.runner
    job = state.current_job
    return RunnerInfo(
        id=runner.id,
        name=runner.name,
        registered_name=runner.registered_name,
        embedded=runner.embedded_host is not None,
        online=state.online,
        busy=state.busy,
        accepting_jobs=state.online and runner.accepting_jobs,
        current_job=RunnerJob(**vars(job)) if job is not None else None,
        last_heartbeat_at=runner.last_heartbeat_at,
        online_since=runner.session_started_at if state.online else None,
        version=runner.version,
        git_hash=runner.git_hash,
        source_code_url=runner.source_code_url,
        priority=runner.priority,
        capabilities=runner.capabilities,
        jobs_succeeded=runner.jobs_succeeded,
        jobs_failed=runner.jobs_failed,
        created_at=runner.created_at,
        revoked_at=runner.revoked_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_runner(
    body: CreateRunnerRequest, admin: AdminUser, runtime: RuntimeDep
) -> CreatedRunner:
    """Create a runner token for `projectw runner --token` (or a Project-W 0.6 runner)."""
    runner, token = await registry.create_runner(runtime.db, body.name, created_by_id=admin.id)
    return CreatedRunner(id=runner.id, token=token)


@router.get("")
async def list_runners(
    _admin: AdminUser,
    runtime: RuntimeDep,
    include_revoked: bool = Query(False, description="Also list revoked runners."),
) -> RunnerList:
    """Every runner: online or not, its current job, version, capabilities and totals."""
    async with runtime.db.session() as session:
        states = await registry.list_runners(session, include_revoked)
    runners = [_info(state) for state in states]
    return RunnerList(
        runners=runners, count=len(runners), online=sum(1 for r in runners if r.online)
    )


@router.delete("/{runner_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_runner(runner_id: int, _admin: AdminUser, runtime: RuntimeDep) -> None:
    """Revoke a runner's token; it goes offline and its job goes back to the queue."""
    await registry.revoke_runner(runtime, runner_id)
