"""The database: engine set-up, short read and write transactions, schema migrations."""

from __future__ import annotations

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


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine: aiosqlite for SQLite, asyncpg for PostgreSQL."""
    if settings.is_sqlite:
        path = settings.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_async_engine(
            settings.database_url, pool_size=8, max_overflow=8, connect_args={"timeout": 15}
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url,
        pool_size=10,
        max_overflow=10,
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
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """Hands out short transactions; services never hold one across an ``await`` of I/O."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(write=True)
            async with conn.begin():
                yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
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
