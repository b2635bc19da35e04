"""Alembic environment: runs on the connection the server hands it (see ``db.migrate``)."""

from __future__ import annotations

from alembic import context

from better_skills.server.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for `alembic revision --autogenerate`
    raise SystemExit("run migrations through better_skills.server.db.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
context.run_migrations()
