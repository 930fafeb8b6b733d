"""Migrations produce exactly the models' schema, on SQLite and PostgreSQL, both ways."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

import projectw.db.models  # noqa: F401 - registers every table
from projectw.db import migrate
from projectw.db.base import Base
from projectw.db.engine import Database


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_matches_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert await migrate.current_revision(db) is None
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
        async with db.engine.connect() as connection:
            diff = await connection.run_sync(_schema_diff)
            tables = await connection.run_sync(_tables)
        assert diff == [], f"migrations and models differ: {diff}"
        assert set(Base.metadata.tables) <= tables
    finally:
        await db.dispose()


async def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        await migrate.downgrade(db, "base")
        assert await migrate.current_revision(db) is None
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_tables) <= {"alembic_version"}
        await migrate.upgrade(db)
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_schema_diff) == []
    finally:
        await db.dispose()


async def test_upgrade_twice_is_harmless(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
    finally:
        await db.dispose()
