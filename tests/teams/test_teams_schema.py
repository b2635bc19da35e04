"""Migration 0007 creates exactly what ``models.py`` declares for team vaults."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from better_skills.server.db import migrate
from better_skills.server.models import metadata

pytestmark = pytest.mark.anyio


def _about_teams(diff: object) -> bool:
    text = repr(diff)
    return "vault_invitations" in text or "is_admin" in text


async def test_migration_matches_the_models(database_url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from better_skills.server.settings import load_settings

    settings = load_settings({"DATABASE_URL": database_url, "SECRET_KEY": "k" * 40})
    engine = create_async_engine(settings.database_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:

            def diff(sync_conn):  # type: ignore[no-untyped-def]
                return compare_metadata(MigrationContext.configure(sync_conn), metadata)

            diffs = await conn.run_sync(diff)
            tables = await conn.run_sync(lambda c: c.dialect.get_table_names(c))
    finally:
        await engine.dispose()
    assert "vault_invitations" in tables
    assert [d for d in diffs if _about_teams(d)] == []
