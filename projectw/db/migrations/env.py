"""Alembic environment: always handed a live connection by `projectw.db.migrate`."""

from __future__ import annotations

from alembic import context

import projectw.db.models  # noqa: F401 - registers every table
from projectw.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `projectw db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
