"""Price the database layer in-process: one session lookup or one small write, in a loop.

    .venv/bin/python benchmarks/db_layer.py                      # SQLite in a temp folder
    .venv/bin/python benchmarks/db_layer.py --postgres           # a scratch PostgreSQL database
    PYTHONPATH=/other/checkout/src .venv/bin/python benchmarks/db_layer.py   # another tree
    .venv/bin/python benchmarks/db_layer.py --stock-aiosqlite    # the engine on aiosqlite itself

No HTTP and no load generator: CPU time per call of each layer, on uvloop, so that a change to
the data layer can be judged on a busy machine where requests/s are too noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update

from better_skills.server.db import Database, create_engine, create_heavy_engine, migrate
from better_skills.server.models import sessions, users
from better_skills.server.settings import load_settings

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def lookup_statement(token_hash: Any) -> Any:
    """The session lookup the server runs, matching ``token_hash`` (a value or a parameter)."""
    return (
        select(
            sessions.c.id,
            sessions.c.user_id,
            sessions.c.expires_at,
            sessions.c.last_used_at,
            users.c.name,
            users.c.email,
        )
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == token_hash)
    )


LOOKUP = lookup_statement(bindparam("token_hash"))
TOUCH = (
    update(sessions).where(sessions.c.id == bindparam("sid")).values(last_used_at=bindparam("t"))
)
TOKEN_HASH = "h" * 64


def lookup_built_per_call() -> Any:
    """The statement as the services once built it: a new object (and cache key) every call."""
    return lookup_statement(TOKEN_HASH)


async def measure(name: str, call: Callable[[], Awaitable[Any]], count: int) -> None:
    for _ in range(count // 10):
        await call()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await call()
    wall = (time.perf_counter() - started) / count * 1e6
    used = (time.process_time() - cpu) / count * 1e6
    print(f"{name:<58}{wall:>9.0f} us wall{used:>9.0f} us CPU")


def stock_aiosqlite_engine(settings: Any) -> Any:
    """The SQLite engine as ``create_engine`` makes it, with aiosqlite's own connection (a
    worker thread per connection) instead of ``sqlite_inline``'s calls on the loop: the
    engine of ``Database.write(heavy=True)``, with the inline engine's pool size."""
    return create_heavy_engine(settings.database_url, str(settings.sqlite_path), pool_size=4)


async def loop_stall(db: Database, megabytes: int, heavy: bool = False) -> None:
    """The longest the event loop went unserved while one write stored ``megabytes`` of text
    (a large skill upload): a ticker that should wake every millisecond measures it."""
    blob = "x" * (megabytes * 1024 * 1024)
    worst, running = 0.0, True

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst, last = max(worst, now - last), now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    async with db.write(heavy=heavy) as tx:
        await tx.execute(users.update().where(users.c.id == "u").values(name=blob))
    took = time.perf_counter() - started
    running = False
    await task
    print(
        f"{f'write of {megabytes} MiB (heavy={heavy}): longest loop stall':<58}"
        f"{worst * 1e3:>9.1f} ms"
        f"{took * 1e3:>9.1f} ms for the write"
    )


async def run(database_url: str, count: int, stock: bool = False) -> None:
    settings = load_settings({"DATABASE_URL": database_url, "SECRET_KEY": "k" * 40}, Path("/-"))
    engine = stock_aiosqlite_engine(settings) if stock else create_engine(settings)
    await migrate(engine)
    db = Database(engine)
    async with db.write() as conn:
        await conn.execute(
            users.insert().values(
                id="u", name="n", email="e@x", email_verified=False, created_at=1, updated_at=1
            )
        )
        await conn.execute(
            sessions.insert().values(
                id="s",
                token_hash=TOKEN_HASH,
                user_id="u",
                kind="device",
                created_at=1,
                updated_at=1,
                last_used_at=1,
                expires_at=2**40,
            )
        )

    async def read_built() -> Any:
        async with db.read() as tx:
            return await tx.first(lookup_built_per_call())

    async def read_prebuilt() -> Any:
        async with db.read() as tx:
            return await tx.first(LOOKUP, {"token_hash": TOKEN_HASH})

    async def write_prebuilt() -> None:
        async with db.write() as conn:
            await conn.execute(TOUCH, {"sid": "s", "t": 5})

    await measure("lookup: Database.read + statement built per call", read_built, count)
    await measure("lookup: Database.read + prebuilt statement", read_prebuilt, count)
    fetch_first = getattr(db, "fetch_first", None)
    if fetch_first is not None:  # the fast path of benchmarks/proposals/server-performance.patch

        async def fast() -> Any:
            return await fetch_first(LOOKUP, {"token_hash": TOKEN_HASH})

        await measure("lookup: Database.fetch_first (driver level)", fast, count)
    if engine.dialect.name == "sqlite":
        raw = sqlite3.connect(str(settings.sqlite_path), isolation_level=None)
        sql = str(LOOKUP.compile(dialect=engine.dialect))

        async def plain() -> Any:
            return raw.execute(sql, (TOKEN_HASH,)).fetchone()

        await measure("lookup: plain sqlite3 on the loop thread (floor)", plain, count)
        raw.close()
    await measure("write: Database.write + one prebuilt UPDATE", write_prebuilt, count)
    direct = getattr(db, "direct", None)
    if direct is not None:  # server/direct.py: the hot paths' writes

        async def statement(durable: bool) -> None:
            await direct.statement(TOUCH, {"sid": "s", "t": 5}, durable=durable)

        async def transaction() -> None:
            async with direct.transaction() as tx:
                await tx.execute(TOUCH, {"sid": "s", "t": 5})

        for durable in (True, False):
            await measure(
                f"write: direct.statement, one UPDATE, durable={durable}",
                lambda durable=durable: statement(durable),
                count,
            )
        await measure("write: direct.transaction + one UPDATE", transaction, count)
    if engine.dialect.name == "sqlite":  # PostgreSQL's driver never runs on the loop
        await loop_stall(db, 16)
        await loop_stall(db, 16, heavy=True)
    await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--stock-aiosqlite", action="store_true", help="SQLite on aiosqlite")
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if not args.postgres:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(f"sqlite:///{tmp}/layer.db", args.count, args.stock_aiosqlite))
        return 0
    import psycopg

    name = f"bs_bench_{secrets.token_hex(5)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        asyncio.run(run(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}", args.count))
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
