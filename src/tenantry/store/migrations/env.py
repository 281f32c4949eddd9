"""Alembic environment: runs on the connection tenantry hands it."""

from __future__ import annotations

from alembic import context

from tenantry.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - tenantry always passes its connection
    raise RuntimeError("run migrations through `tenantry db upgrade`")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
