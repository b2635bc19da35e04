"""One transaction API: ``Database.read()``/``write()`` (the engine), ``direct.transaction()``,
``direct.snapshot()`` and ``direct.autocommit()`` all hand out a ``Tx`` that answers alike, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from sqlalchemy import bindparam, func, insert, select, update

from better_skills.server.db import Database
from better_skills.server.direct import (
    SQLITE_BATCH_PARAMETERS,
    Conflict,
    Row,
    Tx,
    insert_statement,
)
from better_skills.server.direct.sqlite import busy_or_raise
from better_skills.server.models import rate_limits

pytestmark = pytest.mark.anyio

INSERT = insert_statement(rate_limits, "key", "window_start", "count")
BUMP = (
    update(rate_limits)
    .where(rate_limits.c.key == bindparam("k"))
    .values(count=rate_limits.c.count + 1)
)
READ = select(rate_limits.c.key, rate_limits.c.count).where(rate_limits.c.key == bindparam("k"))
COUNT = select(func.count()).select_from(rate_limits)
ALL = select(rate_limits.c.key, rate_limits.c.count).order_by(rate_limits.c.key)


def writers(db: Database) -> dict[str, Callable[[], AbstractAsyncContextManager[Tx]]]:
    @asynccontextmanager
    async def autocommit() -> AsyncIterator[Tx]:
        yield db.direct.autocommit(durable=False)

    return {
        "engine": db.write,
        "engine, heavy": lambda: db.write(heavy=True),
        "direct": db.direct.transaction,
        "direct, autocommit": autocommit,
    }


async def test_every_kind_of_tx_answers_alike(db: Database) -> None:
    for n, (name, open_tx) in enumerate(writers(db).items()):
        key = f"k{n}"
        async with open_tx() as tx:
            assert tx.dialect == db.dialect, name
            assert await tx.execute(INSERT, {"key": key, "window_start": 1, "count": 1}) == 1
            assert await tx.execute(BUMP, {"k": key}) == 1, name
            assert await tx.execute(BUMP, {"k": "missing"}) == 0, name
            row = await tx.first(READ, {"k": key})
            assert (
                isinstance(row, Row)
                and row.count == 2
                and dict(row)
                == {
                    "key": key,
                    "count": 2,
                }
            ), name
            assert await tx.first(READ, {"k": "missing"}) is None, name
            assert await tx.scalar(READ, {"k": key}) == key, name
            assert await tx.scalar(COUNT) == 4 * n + 1, name
            rows = await tx.all(ALL)
            assert [r.key for r in rows if "-" not in r.key] == [f"k{i}" for i in range(n + 1)], (
                name
            )
            assert all(isinstance(r, Row) for r in rows), name
            many = [{"key": f"{key}-{i}", "window_start": 1, "count": 1} for i in range(3)]
            await tx.execute_many(INSERT, many)
            assert await tx.scalar(COUNT) == 4 * (n + 1), name
        async with db.read() as tx:
            assert await tx.scalar(COUNT) == 4 * (n + 1), name


async def test_a_refused_row_is_a_conflict_and_rolls_back(db: Database) -> None:
    async with db.write() as tx:
        await tx.execute(INSERT, {"key": "a", "window_start": 1, "count": 1})
    for name, open_tx in writers(db).items():
        if "autocommit" in name:
            continue
        with pytest.raises(Conflict):
            async with open_tx() as tx:
                await tx.execute(BUMP, {"k": "a"})
                await tx.execute(INSERT, {"key": "a", "window_start": 1, "count": 1})
        async with db.read() as tx:
            assert await tx.scalar(READ, {"k": "a"}) == "a"
            row = await tx.first(READ, {"k": "a"})
            assert row is not None and row.count == 1, name  # the BUMP was rolled back


async def test_snapshot_reads_through_the_same_api(db: Database) -> None:
    async with db.write() as tx:
        await tx.execute_many(
            INSERT, [{"key": k, "window_start": 1, "count": 1} for k in ("a", "b")]
        )
    async with db.direct.snapshot() as tx:
        assert [r.key for r in await tx.all(ALL)] == ["a", "b"]
        assert await tx.scalar(COUNT) == 2


def test_only_an_unavailable_sqlite_becomes_an_outage() -> None:
    """Locked, busy, a full disk, an I/O error: 503 (try again); a wrong statement: a bug."""
    locked = busy_or_raise(sqlite3.OperationalError("database is locked"))
    assert isinstance(locked, ConnectionError)
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    assert isinstance(busy_or_raise(full), ConnectionError)
    io_error = sqlite3.OperationalError("disk I/O error")
    io_error.sqlite_errorcode = sqlite3.SQLITE_IOERR_WRITE  # type: ignore[attr-defined]
    assert isinstance(busy_or_raise(io_error), ConnectionError)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        busy_or_raise(sqlite3.OperationalError("no such table: nowhere"))


async def test_a_refused_commit_ends_the_transaction_on_the_shared_writer(db: Database) -> None:
    """A COMMIT that fails (here a deferred foreign key; a full disk alike) is the caller's
    error (Conflict), and the writer connection is usable again at once."""
    from sqlalchemy import text

    from better_skills.server.models import skill_files

    orphan = insert_statement(
        skill_files, "id", "skill_id", "path", "kind", "size", "sha256", "content",
        "created_at", "updated_at",
    )  # fmt: skip
    row = {
        "id": "f1", "skill_id": "no-such-skill", "path": "a.md", "kind": "other", "size": 1,
        "sha256": "0" * 64, "content": b"x", "created_at": 1, "updated_at": 1,
    }  # fmt: skip
    if db.dialect != "sqlite":
        pytest.skip("SQLite's shared writer connection; asyncpg's pool drops a broken one")
    with pytest.raises(Conflict):
        async with db.direct.transaction() as tx:
            await tx.execute(text("PRAGMA defer_foreign_keys = ON"), {})
            await tx.execute(orphan, row)  # refused only at COMMIT
    async with db.direct.transaction() as tx:
        await tx.execute(INSERT, {"key": "after", "window_start": 1, "count": 1})
    async with db.direct.snapshot() as tx:
        assert [r.key for r in await tx.all(ALL)] == ["after"]


async def test_many_rows_cross_batches_in_order_and_all_or_nothing(db: Database) -> None:
    """More rows than one SQLite statement of many rows takes (SQLITE_BATCH_PARAMETERS):
    every row lands, in order; a refused row in a later batch takes the earlier ones back."""
    per_batch = SQLITE_BATCH_PARAMETERS // 3
    count = 2 * per_batch + 7
    for n, (name, open_tx) in enumerate(writers(db).items()):
        keys = [f"m{n}-{i:04d}" for i in range(count)]
        async with open_tx() as tx:
            await tx.execute_many(
                INSERT, [{"key": k, "window_start": i, "count": 1} for i, k in enumerate(keys)]
            )
        async with db.read() as tx:
            rows = await tx.all(ALL)
        mine = [(r.key, r.count) for r in rows if r.key.startswith(f"m{n}-")]
        assert mine == [(k, 1) for k in keys], name
        clash = [{"key": f"x{n}-{i:04d}", "window_start": 1, "count": 1} for i in range(count)]
        clash[-1]["key"] = keys[0]  # refused in the last batch
        with pytest.raises(Conflict):
            async with open_tx() as tx:
                await tx.execute_many(INSERT, clash)
        async with db.read() as tx:
            assert await tx.scalar(READ, {"k": f"x{n}-0000"}) is None, name


@pytest.mark.backends("sqlite")
async def test_an_insert_with_more_than_its_values_keeps_its_own_sql(db: Database) -> None:
    """Only a plain INSERT is rebuilt as one statement of many rows: ``OR IGNORE`` (like ON
    CONFLICT, RETURNING or constant values) survives ``execute_many`` on every kind of Tx."""
    ignore = insert(rate_limits).prefix_with("OR IGNORE")
    for n, (name, open_tx) in enumerate(writers(db).items()):
        key = f"i{n}"
        async with open_tx() as tx:
            await tx.execute_many(
                ignore, [{"key": key, "window_start": 1, "count": c} for c in (1, 2)]
            )
        async with db.read() as tx:
            row = await tx.first(READ, {"k": key})
        assert row is not None and row.count == 1, name
