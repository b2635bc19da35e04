"""The hot paths' driver-level SQL (server/direct.py), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from better_skills.server.db import Database
from better_skills.server.direct import Conflict, compile_statement, insert_statement
from better_skills.server.models import rate_limits
from tests.server.flow import issue, poll, sign_up

pytestmark = pytest.mark.anyio

INSERT = insert_statement(rate_limits, "key", "window_start", "count")
BUMP = (
    update(rate_limits)
    .where(rate_limits.c.key == bindparam("k"))
    .values(count=rate_limits.c.count + 1)
    .returning(rate_limits.c.count)
)
BUMP_QUIETLY = (
    update(rate_limits)
    .where(rate_limits.c.key == bindparam("k"))
    .values(count=rate_limits.c.count + 1)
)
READ = select(rate_limits.c.count, rate_limits.c.window_start).where(
    rate_limits.c.key == bindparam("k")
)


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.asyncpg.dialect()])
def test_literals_become_parameters_with_their_values(dialect: Any) -> None:
    compiled = compile_statement(BUMP, dialect)
    args = compiled.args({"k": "a"})
    assert "a" in args and 1 in args  # the key, and the literal 1 of "count + 1"
    assert compiled.returns_rows
    assert not compile_statement(BUMP_QUIETLY, dialect).returns_rows
    assert compile_statement(READ, dialect).returns_rows


def test_expanding_in_is_refused_at_compile_time() -> None:
    statement = select(rate_limits.c.key).where(rate_limits.c.key.in_(["a", "b"]))
    with pytest.raises(ValueError, match="expanding"):
        compile_statement(statement, sqlite.dialect())


async def test_statements_return_rows_and_counts(db: Database) -> None:
    row, count = await db.direct.statement(INSERT, {"key": "a", "window_start": 5, "count": 1})
    assert (row, count) == (None, 1)
    row, count = await db.direct.statement(BUMP, {"k": "a"}, durable=False)
    assert row is not None and row.count == 2 and count == 1
    assert await db.direct.statement(BUMP, {"k": "missing"}) == (None, 0)
    assert await db.direct.statement(BUMP_QUIETLY, {"k": "a"}) == (None, 1)
    assert await db.direct.statement(BUMP_QUIETLY, {"k": "missing"}) == (None, 0)
    found = await db.fetch_first(READ, {"k": "a"})
    assert found is not None and (found.count, found.window_start) == (3, 5)
    assert dict(found) == {"count": 3, "window_start": 5}
    assert await db.fetch_first(READ, {"k": "missing"}) is None


async def test_a_transaction_commits_all_or_nothing(db: Database) -> None:
    async with db.direct.transaction() as tx:
        await tx.execute(INSERT, {"key": "a", "window_start": 1, "count": 1})
        assert await tx.execute(BUMP, {"k": "a"}) == 1
        row = await tx.first(READ, {"k": "a"})
        assert row is not None and row.count == 2

    with pytest.raises(Conflict):
        async with db.direct.transaction() as tx:
            await tx.execute(BUMP_QUIETLY, {"k": "a"})
            await tx.execute(INSERT, {"key": "a", "window_start": 1, "count": 1})
    with pytest.raises(RuntimeError):
        async with db.direct.transaction(durable=False) as tx:
            await tx.execute(BUMP_QUIETLY, {"k": "a"})
            raise RuntimeError("the caller fails half-way")

    row = await db.fetch_first(READ, {"k": "a"})
    assert row is not None and row.count == 2  # neither failed transaction left a trace
    # The connection is usable afterwards (nothing was left open on it).
    assert await db.direct.statement(BUMP_QUIETLY, {"k": "a"}) == (None, 1)


async def test_a_conflict_outside_a_transaction(db: Database) -> None:
    params = {"key": "a", "window_start": 1, "count": 1}
    await db.direct.statement(INSERT, params)
    with pytest.raises(Conflict):
        await db.direct.statement(INSERT, params)


@pytest.mark.backends("postgres")
async def test_dead_pooled_connections_are_replaced_without_an_error(db: Database) -> None:
    """What a PostgreSQL restart does to the pools: every connection in them is gone. The next
    statement and the next transaction must not be the ones that find out."""
    await db.direct.statement(INSERT, {"key": "a", "window_start": 1, "count": 1})
    async with db.direct.transaction():
        pass
    await db.direct.statement(BUMP_QUIETLY, {"k": "a"}, durable=False)
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    assert await db.direct.statement(BUMP_QUIETLY, {"k": "a"}, durable=False) == (None, 1)
    async with db.direct.transaction() as tx:
        assert await tx.execute(BUMP_QUIETLY, {"k": "a"}) == 1
    row = await db.fetch_first(READ, {"k": "a"})
    assert row is not None and row.count == 4


@pytest.mark.backends("postgres")
async def test_a_worker_opens_at_most_three_pools_of_database_pool_size(app_client) -> None:
    """Replicas * WORKERS * 3 * DATABASE_POOL_SIZE is the connection budget the README gives
    operators for PostgreSQL's max_connections: a burst of every kind of call stays in it."""
    async with app_client(DATABASE_POOL_SIZE="2") as client:
        token = (await sign_up(client))["token"]
        code = (await issue(client))["device_code"]
        auth = {"Authorization": f"Bearer {token}"}
        reads = [client.get("/api/auth/get-session", headers=auth) for _ in range(20)]
        polls = [poll(client, code) for _ in range(20)]
        pages = [client.get("/device") for _ in range(10)]
        issued, answers = await asyncio.gather(
            asyncio.gather(*(issue(client) for _ in range(20))),
            asyncio.gather(*reads, *polls, *pages),
        )
        assert len({i["device_code"] for i in issued}) == 20
        assert all(a.status_code in (200, 400) for a in answers)
        db = client.app.state.services.db  # type: ignore[attr-defined]
        async with db.engine.connect() as conn:
            opened = (
                await conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                )
            ).scalar_one()
        assert 3 <= opened <= 3 * 2


def test_a_row_reads_columns_by_attribute_and_keeps_the_dicts_own() -> None:
    from better_skills.server.direct import Row

    row = Row(id="s1", slug="demo", items="a column named like a dict method", size=0)
    assert (row.id, row.slug, row.size) == ("s1", "demo", 0)
    assert row["items"] == "a column named like a dict method"
    assert callable(row.items)  # the dict's method wins, as with __getattr__ before
    assert dict(row.items())["slug"] == "demo"
    assert row.get("nope", 1) == 1
    with pytest.raises(AttributeError, match="nope"):
        _ = row.nope
    assert not hasattr(row, "nope")
    assert getattr(row, "size", 9) == 0
