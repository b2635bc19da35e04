"""The Alembic migrations and ``models.py`` describe the same schema, on both backends.

``alembic revision --autogenerate`` compares the two with the same options
(``db.AUTOGENERATE_OPTIONS``): after ``upgrade head`` it must find nothing to do, so a table,
column, index, type or default added to one and not the other fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String

from better_skills.server.db import AUTOGENERATE_OPTIONS, create_engine, migrate
from better_skills.server.models import metadata

pytestmark = [pytest.mark.anyio, pytest.mark.empty_database]


async def differences(settings: Any, target: MetaData) -> list[Any]:
    engine = create_engine(settings)
    try:
        await migrate(engine)
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(sync_conn, opts=dict(AUTOGENERATE_OPTIONS))
                return compare_metadata(context, target)

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def test_autogenerate_finds_nothing_after_the_migrations(settings_factory) -> None:
    settings = settings_factory()
    assert await differences(settings, metadata) == []

    # The comparison can fail: a column the migrations lack is found.
    drifted = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["users"].append_column(Column("nickname", String(40), nullable=True))
    (found,) = await differences(settings, drifted)
    assert found[0] == "add_column" and found[2] == "users" and found[3].name == "nickname"
