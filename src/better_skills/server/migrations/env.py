"""Alembic environment.

The server migrates through ``better_skills.server.db.migrate``, which hands this module an
open connection. Run from the repository, ``alembic`` (configured in ``pyproject.toml``'s
``[tool.alembic]``) connects to the database of ``DATABASE_URL`` (or ``.env``) itself, so that
``alembic revision --autogenerate`` can compare ``models.py`` with the migrated schema; see
the README's Development section.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from better_skills.server.db import AUTOGENERATE_OPTIONS
from better_skills.server.models import metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        **AUTOGENERATE_OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_the_command_line() -> None:
    from better_skills.server.db import create_engine
    from better_skills.server.settings import load_settings

    engine = create_engine(load_settings())
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(write=True)
            await conn.run_sync(run_on)
            await conn.commit()
    finally:
        await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is None:
    asyncio.run(run_from_the_command_line())
else:
    run_on(connection)
