"""The database: engine set-up, short read and write transactions, schema migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from better_skills.server.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Key of the PostgreSQL advisory lock that serialises migrations of replicas starting together.
_MIGRATION_LOCK = 0x6273_6B69  # "bski"


class _Row(dict):
    """A result row read by attribute, like SQLAlchemy's."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine: SQLite via the inline adapter (sqlite_inline), PostgreSQL via asyncpg."""
    if settings.is_sqlite:
        path = settings.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        from better_skills.server.sqlite_inline import inline_creator

        # Calls run inline (see sqlite_inline); transactions never span a real suspension
        # point, so a few connections are plenty.
        engine = create_async_engine(
            settings.database_url,
            pool_size=4,
            max_overflow=4,
            async_creator=inline_creator(str(path) if path else ":memory:", timeout=2),
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url,
        # No overflow: a burst waits for a pooled connection instead of opening a new one
        # (connect + TLS probe + a forked PostgreSQL backend) and closing it again on return.
        pool_size=20,
        max_overflow=0,
        pool_timeout=10,
        # After PostgreSQL restarts every pooled connection is dead; test each on checkout
        # and reconnect, so that the first requests after the outage do not fail with a 503.
        pool_pre_ping=True,
        # A replica must not hang on a dead database: fail fast, answer 503, retry later.
        connect_args={"timeout": 5, "command_timeout": 10},
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers; explicit BEGIN so writers take the lock up front.

    pysqlite's own transaction handling starts writers with a deferred BEGIN, which can fail
    with "database is locked" when two transactions upgrade to writing at once; BEGIN IMMEDIATE
    makes the second wait (busy_timeout) instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=2000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        # Reads are single statements in autocommit mode (each one sees a consistent
        # snapshot); an explicit BEGIN would cost a thread hop to aiosqlite's worker.
        if conn.get_execution_options().get("write", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Hands out short transactions; services never hold one across an ``await`` of I/O."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        sqlite = engine.dialect.name == "sqlite"
        # PostgreSQL reads run in autocommit: one round trip instead of BEGIN, query, COMMIT.
        self._read_engine = (
            engine if sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # SQLite has one writer at a time. Queue this process's writers on the event loop
        # instead of letting them collide in BEGIN IMMEDIATE, where the loser sleeps in
        # SQLite's busy handler (backing off up to 100 ms a try).
        self._write_lock = asyncio.Lock() if sqlite else None
        # fetch_first's SQLite reader, and its PostgreSQL pool, opened on first use.
        database = engine.url.database if sqlite else None
        self._sqlite_path = database if database and database != ":memory:" else None
        self._reader: sqlite3.Connection | None = None
        self._pg_pool: Any = None
        self._pg_pool_lock = asyncio.Lock()
        self._compiled_cache: dict[int, tuple[str, list[str], list[str]]] = {}

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._read_engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def write(self, durable: bool = True) -> AsyncIterator[AsyncConnection]:
        """A write transaction. ``durable=False`` is for bookkeeping whose loss in a database
        crash harms nobody (poll times, slow_down, last use): on PostgreSQL its COMMIT does not
        wait for the WAL flush, so a hot row's lock is held for microseconds, not a disk sync.
        Call :meth:`make_durable` inside it before writing something that must survive."""
        if self._write_lock is None:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(write=True)
                async with conn.begin():
                    if not durable:
                        await conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    yield conn
            return
        async with self._write_lock, self.engine.connect() as conn:
            conn = await conn.execution_options(write=True)
            async with conn.begin():
                yield conn

    async def fetch_first(self, statement: Any, params: dict[str, Any]) -> Any:
        """The first row of a one-statement read, or None.

        On SQLite the statement runs on the event loop thread through a plain ``sqlite3``
        connection: an indexed read takes microseconds and a WAL reader never waits for a
        writer, while aiosqlite would hop to its worker thread and back four times.
        """
        if self.engine.dialect.name == "postgresql":
            sql, names, keys = self._compiled(statement)
            record = await self._pg_fetchrow(sql, [params[n] for n in names])
            return None if record is None else _Row(zip(keys, record.values(), strict=True))
        reader = self._sqlite_reader()
        if reader is None:
            async with self.read() as conn:
                return (await conn.execute(statement, params)).first()
        sql, names, keys = self._compiled(statement)
        row = reader.execute(sql, [params[n] for n in names]).fetchone()
        return None if row is None else _Row(zip(keys, row, strict=True))

    def _compiled(self, statement: Any) -> tuple[str, list[str], list[str]]:
        found = self._compiled_cache.get(id(statement))
        if found is None:
            compiled = statement.compile(dialect=self.engine.dialect)
            names = list(compiled.positiontup or [])
            keys = [c.key for c in statement.selected_columns]
            found = (compiled.string, names, keys)
            self._compiled_cache[id(statement)] = found
        return found

    async def _pg_fetchrow(self, sql: str, args: list[Any]) -> Any:
        """One row through asyncpg's pool. After a PostgreSQL restart its pooled connections
        are dead: the pool drops a broken one and the retry gets a fresh one; a second
        failure is an outage, reported as a ConnectionError (503 Service Unavailable)."""
        import asyncpg

        pool = self._pg_pool or await self._open_pg_pool()
        try:
            return await pool.fetchrow(sql, *args)
        except TimeoutError:
            raise  # a hung database: no second wait (the handler answers 503)
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
            pass
        try:
            return await pool.fetchrow(sql, *args)
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as exc:
            raise ConnectionError(f"PostgreSQL unavailable: {type(exc).__name__}") from exc

    async def _open_pg_pool(self) -> Any:
        """asyncpg's own pool for hot one-statement reads: no SQLAlchemy connection,
        transaction or result objects per request (they cost more CPU than the query)."""
        import asyncpg

        async with self._pg_pool_lock:
            if self._pg_pool is None:
                url = self.engine.url.set(drivername="postgresql")
                self._pg_pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=10,
                    timeout=5,
                    command_timeout=10,
                )
        return self._pg_pool

    def _sqlite_reader(self) -> sqlite3.Connection | None:
        if self._reader is None and self._sqlite_path is not None:
            reader = sqlite3.connect(
                self._sqlite_path, isolation_level=None, check_same_thread=False
            )
            reader.execute("PRAGMA query_only=ON")
            reader.execute("PRAGMA busy_timeout=200")
            self._reader = reader
        return self._reader

    @staticmethod
    async def make_durable(conn: AsyncConnection) -> None:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("SET LOCAL synchronous_commit TO ON")

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._pg_pool is not None:
            await self._pg_pool.close()
        await self.engine.dispose()


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
    command.upgrade(_alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Create or upgrade the schema to the latest revision (idempotent; safe across replicas)."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(write=True)
        async with conn.begin():
            await conn.run_sync(_upgrade)
