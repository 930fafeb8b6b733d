"""Listing a user's jobs: filters, search, sort and keyset (cursor) pagination.

A cursor names the last row of a page by its sort key and id, so a deep page costs the same
as the first one (an index range scan on ``(user_id, created_at, id)`` or
``(user_id, file_name, id)``) and rows added meanwhile neither repeat nor go missing. It also
carries the total counted for the first page: counting 100,000 rows is the expensive part.

The first page's total is also kept in the state backend, stamped with the number and the sum
of the ids of the user's events. Every change to a user's jobs (created, status changed,
deleted) writes an event, so while the stamp is unchanged the total is too, and a first page
reloaded in a quiet moment does not count again. (Not the newest id alone: on PostgreSQL an
event with a lower id can become visible after a higher one.) Searches are always counted.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Integer, String, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from projectw.db.base import UTCDateTime
from projectw.db.engine import Database
from projectw.db.models import Event, Job, Runner
from projectw.errors import InvalidInput
from projectw.jobs.views import JobView, job_view
from projectw.state.base import StateBackend

SortKey = Literal["created", "name"]
SortOrder = Literal["asc", "desc"]
MAX_PAGE = 200
# A cached total is dropped after this long whatever its stamp, bounding the damage of an
# improbable stamp collision (events pruned and added in between with the same count and sum).
TOTAL_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class JobQuery:
    """What to list."""

    statuses: tuple[str, ...] = ()
    search: str | None = None
    sort: SortKey = "created"
    order: SortOrder = "desc"
    cursor: str | None = None
    limit: int = 50


class JobPage(BaseModel):
    """One page of jobs, the number of jobs matching the filters, and the next page's cursor."""

    items: list[JobView]
    total: int = Field(
        description="Jobs matching the filters when the first page was read; later pages "
        "carry that figure in their cursor, so paging deep never counts again."
    )
    next_cursor: str | None


def _encode_cursor(query: JobQuery, key: Any, job_id: int, total: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps([query.sort, query.order, value, job_id, total], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(query: JobQuery, cursor: str) -> tuple[Any, int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort, order, value, job_id, total = json.loads(base64.urlsafe_b64decode(padded))
        if (sort, order) != (query.sort, query.order) or not isinstance(job_id, int):
            raise ValueError("cursor of another order")
        if not isinstance(total, int):
            raise ValueError("cursor without a total")
        key = datetime.fromisoformat(value) if sort == "created" else str(value)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise InvalidInput(
            "Field 'cursor' is not a cursor of this listing; start again without one."
        ) from None
    return key, job_id, total


def _filters(user_id: int, query: JobQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Job.user_id == user_id]
    if query.statuses:
        conditions.append(Job.status.in_(query.statuses))
    if query.search:
        escaped = query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Job.file_name.ilike(f"%{escaped}%", escape="\\"))
    return conditions


async def _runner_names(session: AsyncSession, runner_ids: set[int]) -> dict[int, str]:
    if not runner_ids:
        return {}
    rows = await session.execute(
        select(Runner.id, Runner.registered_name, Runner.name).where(Runner.id.in_(runner_ids))
    )
    return {row.id: row.registered_name or row.name for row in rows}


class _Totals:
    """The cached first-page total of one user and filter, valid while the user's events are
    the same (their count and the sum of their ids)."""

    def __init__(self, state: StateBackend, user_id: int, query: JobQuery) -> None:
        self.state = state
        self.user_id = user_id
        self.key = f"jobs:total:{user_id}:{','.join(sorted(query.statuses))}"
        self.stamp = ""

    async def cached(self, session: AsyncSession) -> int | None:
        count, id_sum = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(Event.id), 0)).where(
                    Event.user_id == self.user_id
                )
            )
        ).one()
        self.stamp = f"{count}/{id_sum}"
        stored = await self.state.get(self.key)
        if stored is None:
            return None
        stamp, _, total = stored.partition(":")
        return int(total) if stamp == self.stamp and total.isdigit() else None

    async def store(self, total: int) -> None:
        await self.state.put(self.key, f"{self.stamp}:{total}", ttl=TOTAL_CACHE_SECONDS)


async def list_jobs(db: Database, state: StateBackend, user_id: int, query: JobQuery) -> JobPage:
    """A page of the user's jobs."""
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidInput(f"Field 'limit' must be between 1 and {MAX_PAGE}.")
    column = Job.created_at if query.sort == "created" else Job.file_name
    conditions = _filters(user_id, query)
    statement = select(Job).where(*conditions)
    total: int | None = None
    if query.cursor:
        key, last_id, total = _decode_cursor(query, query.cursor)
        key_type = UTCDateTime() if query.sort == "created" else String()
        row = tuple_(column, Job.id)
        bound = tuple_(
            bindparam("cursor_key", key, type_=key_type),
            bindparam("cursor_id", last_id, type_=Integer()),
        )
        statement = statement.where(row < bound if query.order == "desc" else row > bound)
    if query.order == "desc":
        statement = statement.order_by(column.desc(), Job.id.desc())
    else:
        statement = statement.order_by(column.asc(), Job.id.asc())
    statement = statement.limit(query.limit + 1)
    async with db.session() as session:
        # Searches are always counted; a later page's total rides in its cursor.
        totals = _Totals(state, user_id, query) if total is None and not query.search else None
        if totals is not None:
            # The stamp is read before the rows: a change committed in between makes the
            # next request count again rather than keep a stale total.
            total = await totals.cached(session)
        jobs = list(await session.scalars(statement))
        if total is None:
            total = int(
                await session.scalar(select(func.count()).select_from(Job).where(*conditions)) or 0
            )
            if totals is not None:
                await totals.store(total)
        more = len(jobs) > query.limit
        jobs = jobs[: query.limit]
        names = await _runner_names(session, {j.runner_id for j in jobs if j.runner_id})
    items = [job_view(job, names.get(job.runner_id or 0)) for job in jobs]
    next_cursor = None
    if more and jobs:
        last = jobs[-1]
        key_value = last.created_at if query.sort == "created" else last.file_name
        next_cursor = _encode_cursor(query, key_value, last.id, total)
    return JobPage(items=items, total=total, next_cursor=next_cursor)
