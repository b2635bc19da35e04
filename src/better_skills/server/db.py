"""The database: engine set-up, short read and write transactions (each a :class:`Tx`),
schema migrations."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from better_skills.server.db_timeouts import (
    PG_COMMAND_TIMEOUT_S,
    PG_CONNECT_TIMEOUT_S,
    POOL_TIMEOUT_S,
    SQLITE_WRITE_BUSY_MS,
)
from better_skills.server.direct import EngineTx, PostgresDirect, SqliteDirect, Tx
from better_skills.server.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Above this many bytes of content a write is heavy (see :meth:`Database.write`): on SQLite
#: it leaves the event loop. Writing 256 KiB inline blocks the loop for about 25 ms.
HEAVY_WRITE_BYTES = 256 * 1024
#: Key of the PostgreSQL advisory lock that serialises migrations of replicas starting together.
_MIGRATION_LOCK = 0x6273_6B69  # "bski"


def create_engine(settings: Settings) -> AsyncEngine:
    """An async engine: SQLite via the inline adapter (sqlite_inline), PostgreSQL via asyncpg."""
    if settings.is_sqlite:
        path = settings.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_private(path)
        from better_skills.server.sqlite_inline import inline_creator

        # Calls run inline (see sqlite_inline); transactions never span a real suspension
        # point, so a few connections are plenty.
        engine = create_async_engine(
            settings.database_url,
            pool_size=4,
            max_overflow=4,
            async_creator=inline_creator(str(path) if path else ":memory:", SQLITE_WRITE_BUSY_MS),
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url,
        # No overflow: a burst waits for a pooled connection instead of opening a new one
        # (connect + TLS probe + a forked PostgreSQL backend) and closing it again on return.
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_S,
        # After PostgreSQL restarts every pooled connection is dead; test each on checkout
        # and reconnect, so that the first requests after the outage do not fail with a 503.
        pool_pre_ping=True,
        # A replica must not hang on a dead database: fail fast, answer 503, retry later.
        connect_args={"timeout": PG_CONNECT_TIMEOUT_S, "command_timeout": PG_COMMAND_TIMEOUT_S},
    )


def create_heavy_engine(database_url: str, path: str, pool_size: int = 1) -> AsyncEngine:
    """The SQLite engine for heavy writes: aiosqlite's own connection, whose calls run on a
    worker thread, so a write of megabytes leaves the event loop serving (see
    :meth:`Database.write`). Same PRAGMAs and ``BEGIN IMMEDIATE`` as :func:`create_engine`'s."""
    import aiosqlite

    async def connect() -> Any:
        conn = await aiosqlite.connect(path, isolation_level=None)
        for pragma in (
            f"busy_timeout={SQLITE_WRITE_BUSY_MS}",
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        ):
            await conn.execute(f"PRAGMA {pragma}")
        return conn

    # One connection is enough for the server: heavy writes queue behind its write lock.
    engine = create_async_engine(
        database_url, pool_size=pool_size, max_overflow=0, async_creator=connect
    )
    _configure_sqlite(engine)
    return engine


def _create_private(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does: it would make it 0644 under the usual
    umask, and it holds emails, password hashes and digests. SQLite gives its WAL and
    shared-memory files the database file's permissions."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # an existing database keeps the permissions its owner gave it
    os.close(fd)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers; explicit BEGIN so writers take the lock up front.

    pysqlite's own transaction handling starts writers with a deferred BEGIN, which can fail
    with "database is locked" when two transactions upgrade to writing at once; BEGIN IMMEDIATE
    makes the second wait (busy_timeout) instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The PRAGMAs are set where the connection is made (sqlite_inline.connect_sqlite);
        # this tells SQLAlchemy's adapter, too, that BEGIN is ours to issue.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        # Reads are single statements in autocommit mode (each one sees a consistent
        # snapshot), so they need no BEGIN and COMMIT around them.
        if conn.get_execution_options().get("write", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Hands out short transactions; services never hold one across an ``await`` of I/O."""

    def __init__(self, engine: AsyncEngine, pool_size: int = 4) -> None:
        """``pool_size``: the most connections each of the PostgreSQL pools of
        :attr:`direct` opens (see ``DATABASE_POOL_SIZE``)."""
        self.engine = engine
        #: "sqlite" or "postgresql"
        self.dialect: str = engine.dialect.name
        sqlite = self.dialect == "sqlite"
        # PostgreSQL reads run in autocommit: one round trip instead of BEGIN, query, COMMIT.
        self._read_engine = (
            engine if sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # SQLite has one writer at a time. Queue this process's writers on the event loop
        # instead of letting them collide in BEGIN IMMEDIATE, where the loser sleeps in
        # SQLite's busy handler (backing off up to 100 ms a try).
        self._write_lock: asyncio.Lock | None = None
        #: SQLite's engine for heavy writes (see :meth:`write`), made on first use.
        self._heavy: AsyncEngine | None = None
        # The hot paths' statements, straight through the driver (see direct).
        self.direct: SqliteDirect | PostgresDirect
        if sqlite:
            database = engine.url.database
            if not database or database == ":memory:":
                raise ValueError("SQLite needs a database file, not an in-memory database")
            self._write_lock = lock = asyncio.Lock()
            self.direct = SqliteDirect(engine.dialect, database, lock)
        else:
            url = engine.url.set(drivername="postgresql")
            self.direct = PostgresDirect(
                engine.dialect, url.render_as_string(hide_password=False), pool_size
            )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read transaction through the engine (PostgreSQL: autocommit)."""
        async with self._read_engine.connect() as conn, conn.begin():
            yield EngineTx(conn)

    @asynccontextmanager
    async def write(self, *, heavy: bool = False) -> AsyncIterator[Tx]:
        """A write transaction (SQLite: BEGIN IMMEDIATE, queued behind this process's other
        writers). The hot paths write through :attr:`direct` instead.

        ``heavy``: a write whose size is not bounded by a few rows (a large skill, an
        import). On SQLite it runs on a small engine on stock aiosqlite, whose worker thread
        leaves the event loop serving reads and the hot paths while it writes (the inline
        engine would block the loop for the whole write); it still queues behind the same
        write lock. On PostgreSQL every write already leaves the loop: nothing changes."""
        engine = self._heavy_engine() if heavy else self.engine
        async with self._write_lock or nullcontext(), engine.connect() as conn:
            conn = await conn.execution_options(write=True)
            async with conn.begin():
                yield EngineTx(conn)

    def _heavy_engine(self) -> AsyncEngine:
        if self._write_lock is None:  # PostgreSQL
            return self.engine
        if self._heavy is None:
            url = self.engine.url
            self._heavy = create_heavy_engine(url.render_as_string(), str(url.database))
        return self._heavy

    async def fetch_first(self, statement: Any, params: dict[str, Any]) -> Any:
        """The first row of a one-statement read, or None (through the driver: see direct)."""
        return await self.direct.fetch_first(statement, params)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.direct.close()
        if self._heavy is not None:
            await self._heavy.dispose()
        await self.engine.dispose()


def _declared_in_models(name: str | None, type_: str, parent_names: Any) -> bool:
    """Whether autogenerate compares this reflected object: everything but the search index
    (0005), whose tables differ by dialect (FTS5 or pg_trgm side tables), are kept by
    triggers and so are not declared in ``models.py``."""
    table = name if type_ == "table" else parent_names.get("table_name")
    return not (table or "").startswith("search_")


#: How ``alembic revision --autogenerate`` and the drift test compare the schema with
#: ``models.py``: column types and server defaults too, the search index left out.
AUTOGENERATE_OPTIONS: dict[str, Any] = {
    "include_name": _declared_in_models,
    "compare_type": True,
    "compare_server_default": True,
}


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
