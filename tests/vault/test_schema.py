"""The vault migration creates exactly the tables that ``models.py`` declares."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from better_skills.server.db import migrate
from better_skills.server.models import metadata

VAULT_TABLES = {"vaults", "vault_memberships", "skills", "skill_files", "skill_links"}

pytestmark = pytest.mark.anyio


def _table_of(diff: object) -> str | None:
    """The table a compare_metadata entry is about (entries are tuples or lists of them)."""
    while isinstance(diff, list):
        diff = diff[0]
    for item in diff:  # type: ignore[union-attr]
        name = getattr(item, "name", None)
        table = getattr(item, "table", None)
        if table is not None and getattr(table, "name", None):
            return table.name
        if isinstance(item, str) and item in VAULT_TABLES:
            return item
        if name in VAULT_TABLES and hasattr(item, "columns"):
            return name
    return None


async def test_migration_matches_the_models(database_url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from better_skills.server.settings import load_settings

    settings = load_settings({"DATABASE_URL": database_url, "SECRET_KEY": "k" * 40})
    engine = create_async_engine(settings.database_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:

            def diff(sync_conn):  # type: ignore[no-untyped-def]
                context = MigrationContext.configure(sync_conn)
                return compare_metadata(context, metadata)

            diffs = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    ours = [d for d in diffs if _table_of(d) in VAULT_TABLES]
    assert ours == []
