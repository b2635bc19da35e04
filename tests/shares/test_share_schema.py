"""Migration 0008 creates exactly the share tables of ``models.py``; the OpenAPI document
describes every share endpoint."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from better_skills.server.db import migrate
from better_skills.server.models import metadata

SHARE_TABLES = {"skill_shares", "skill_share_files"}

pytestmark = pytest.mark.anyio


def _tables(diff: object) -> set[str]:
    """Every table name an entry of compare_metadata mentions."""
    found: set[str] = set()
    stack = [diff]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        table = getattr(item, "table", None)
        if table is not None and getattr(table, "name", None):
            found.add(table.name)
        if isinstance(item, str):
            found.add(item)
        name = getattr(item, "name", None)
        if isinstance(name, str) and hasattr(item, "columns"):
            found.add(name)
    return found


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
            tables = await conn.run_sync(
                lambda c: set(__import__("sqlalchemy").inspect(c).get_table_names())
            )
    finally:
        await engine.dispose()
    assert tables >= SHARE_TABLES
    assert [d for d in diffs if _tables(d) & SHARE_TABLES] == []


ENDPOINTS = [
    ("post", "/api/v1/skills/{skill_id}/shares"),
    ("get", "/api/v1/shares"),
    ("get", "/api/v1/shares/{share_id}"),
    ("get", "/api/v1/shares/{share_id}/bundle"),
    ("post", "/api/v1/shares/{share_id}/import"),
    ("delete", "/api/v1/shares/{share_id}"),
]


async def test_every_share_endpoint_is_documented(client) -> None:
    document = (await client.get("/api/openapi.json")).json()
    for method, path in ENDPOINTS:
        operation = document["paths"][path][method]
        assert "404" in operation["responses"] or path == "/api/v1/shares", (method, path)
        assert operation["tags"] == ["shares"]
    bundle = document["components"]["schemas"]["ShareBundleItem"]["properties"]
    assert {"id", "content_hash", "files", "slug", "name"} <= set(bundle)
