"""Migration 0010: SQLite's search indexes merge sixteen segments at a time (crisis merges at
64); its downgrade restores FTS5's defaults; on PostgreSQL both directions change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from better_skills.server.db import _alembic_config, create_engine, migrate

pytestmark = [pytest.mark.anyio, pytest.mark.empty_database]

_CONFIG = "SELECT k, v FROM {table}_config WHERE k IN ('automerge', 'crisismerge') ORDER BY k"


async def merge_settings(engine: Any) -> dict[str, dict[str, int]]:
    async with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return {}
        found = {}
        for table in ("search_meta", "search_body"):
            rows = (await conn.execute(text(_CONFIG.format(table=table)))).all()
            found[table] = {k: int(v) for k, v in rows}
        return found


async def test_0010_sets_the_merge_settings_and_its_downgrade_restores_them(
    settings_factory: Any,
) -> None:
    engine = create_engine(settings_factory())
    try:
        await migrate(engine)
        sqlite = engine.dialect.name == "sqlite"
        tuned = {"automerge": 16, "crisismerge": 64}
        expected = {"search_meta": tuned, "search_body": tuned} if sqlite else {}
        assert await merge_settings(engine) == expected

        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(_alembic_config(c), "0009"))
        defaults = {"automerge": 4, "crisismerge": 16}
        expected = {"search_meta": defaults, "search_body": defaults} if sqlite else {}
        assert await merge_settings(engine) == expected

        await migrate(engine)
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert version == [("0010",)]
        if sqlite:  # and the indexes still answer
            async with engine.connect() as conn:
                hits = await conn.execute(text("SELECT count(*) FROM search_body('\"abc\"')"))
                assert hits.scalar() == 0
    finally:
        await engine.dispose()
