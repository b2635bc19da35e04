"""Hot-path SQL straight through the driver: ``sqlite3`` inline, asyncpg's own pools.

The calls every client makes (get-session, device/code, device/token) each run one to four
small indexed statements. Through SQLAlchemy's async engine each statement cost more CPU than
the database spent on it (compiled-cache lookups, parameter processing, result objects,
greenlet switches, a pre-ping round trip per checkout). Here each statement is an ordinary
SQLAlchemy Core construct, compiled once per dialect, and then executed by the driver itself.
Everything else (pages, accounts, migrations) keeps using the engine.

- SQLite: statements run on the event loop's thread (see sqlite_inline for why that is
  right for SQLite), on one writer connection queued behind the same ``asyncio.Lock`` as the
  engine's writers, and one read-only connection for reads (WAL readers never wait).
- PostgreSQL: two asyncpg pools of ``DATABASE_POOL_SIZE`` connections each, entered in
  arrival order. ``durable`` commits wait for the WAL flush as usual; ``relaxed`` connections
  run with ``synchronous_commit=off``, for one-statement bookkeeping whose loss in a database
  crash harms nobody (a poll time, a rate-limit count). The database stays consistent either
  way; only the last fraction of a second of such commits can be lost.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy.engine import Dialect

from better_skills.server.sqlite_inline import connect_sqlite


class Conflict(Exception):
    """A unique (or foreign key) constraint refused the row."""


_MISSING = object()


class Row(dict):  # type: ignore[type-arg]
    """A result row read by attribute, like SQLAlchemy's; a dict's own attributes (``items``,
    ``get``, ...) come first, as they would with ``__getattr__``.

    ``__getattribute__``, not ``__getattr__``: Python calls ``__getattr__`` only after the
    normal lookup has raised (and caught) an AttributeError, 3 µs per column read, which
    made building the summaries the largest cost of a list page (docs/performance.md).
    """

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if name not in _DICT_ATTRIBUTES:
            value = _get(self, name, _MISSING)
            if value is not _MISSING:
                return value
        return object.__getattribute__(self, name)


_get = dict.get
_DICT_ATTRIBUTES = frozenset(dir(Row))


@dataclass(frozen=True)
class Compiled:
    """A statement compiled for one dialect: its SQL and where each parameter goes."""

    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]
    returns_rows: bool

    def args(self, params: dict[str, Any]) -> list[Any]:
        defaults = self.defaults
        return [params[n] if n in params else defaults[n] for n in self.names]


def compile_statement(statement: Any, dialect: Dialect) -> Compiled:
    """Compile once. Parameters are positional (``?`` or ``$n``); literals in the statement
    (``count + 1``) become parameters whose values are kept as defaults."""
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    if "POSTCOMPILE" in compiled.string:
        raise ValueError("expanding IN parameters cannot be compiled once; spell them out")
    defaults = {
        n: compiled.binds[n].value
        for n in names
        if n in compiled.binds and not compiled.binds[n].required
    }
    returns_rows = not statement.is_dml or bool(compiled.effective_returning)
    return Compiled(compiled.string, names, defaults, returns_rows)


def insert_statement(table: Table, *columns: str) -> Insert:
    """``INSERT INTO table (columns) VALUES (...)`` with one parameter per column, named after
    it: compiled once, it runs through SQLAlchemy and :class:`Tx` alike."""
    return insert(table).values({name: bindparam(name) for name in columns})


class Tx(Protocol):
    """One open transaction, from ``transaction()`` of :class:`SqliteDirect` or
    :class:`PostgresDirect`."""

    async def first(self, statement: Any, params: dict[str, Any]) -> Row | None: ...

    async def all(self, statement: Any, params: dict[str, Any]) -> list[Row]: ...

    async def execute(self, statement: Any, params: dict[str, Any]) -> int: ...


class Direct:
    """Compiles statements once per dialect; subclasses run them."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._cache: dict[int, tuple[Any, Compiled]] = {}

    def compiled(self, statement: Any) -> Compiled:
        # Keyed by identity: hot statements are module-level constants. The statement is kept
        # in the entry so that its id cannot be reused by another object.
        found = self._cache.get(id(statement))
        if found is None:
            if len(self._cache) >= 256:  # a statement built per call: stay bounded
                self._cache.clear()
            found = (statement, compile_statement(statement, self._dialect))
            self._cache[id(statement)] = found
        return found[1]


# -- SQLite --------------------------------------------------------------------------------


def _sqlite_rows(cursor: sqlite3.Cursor) -> list[Row]:
    # fetchall steps the statement to its end: a RETURNING statement left half-read would
    # keep its implicit transaction (and the write lock) open.
    rows = cursor.fetchall()
    if not rows:
        return []
    names = [d[0] for d in cursor.description]
    return [Row(zip(names, row, strict=True)) for row in rows]


class _SqliteTx:
    def __init__(self, direct: SqliteDirect, conn: sqlite3.Connection) -> None:
        self._direct = direct
        self._conn = conn

    async def first(self, statement: Any, params: dict[str, Any]) -> Row | None:
        rows = self._direct._run(self._conn, statement, params)[0]
        return rows[0] if rows else None

    async def all(self, statement: Any, params: dict[str, Any]) -> list[Row]:
        return self._direct._run(self._conn, statement, params)[0]

    async def execute(self, statement: Any, params: dict[str, Any]) -> int:
        return self._direct._run(self._conn, statement, params)[1]


class SqliteDirect(Direct):
    def __init__(self, dialect: Dialect, path: str, write_lock: asyncio.Lock) -> None:
        super().__init__(dialect)
        self._path = path
        self._write_lock = write_lock
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None

    def _run(
        self, conn: sqlite3.Connection, statement: Any, params: dict[str, Any]
    ) -> tuple[list[Row], int]:
        compiled = self.compiled(statement)
        try:
            cursor = conn.execute(compiled.sql, compiled.args(params))
            rows = _sqlite_rows(cursor)
            return rows, len(rows) if compiled.returns_rows else cursor.rowcount
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc
        except sqlite3.OperationalError as exc:  # "database is locked": try again later
            raise ConnectionError(f"SQLite busy: {exc}") from exc

    def _reader_conn(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = connect_sqlite(self._path, busy_timeout_ms=200)
            self._reader.execute("PRAGMA query_only=ON")
        return self._reader

    async def fetch_first(self, statement: Any, params: dict[str, Any]) -> Row | None:
        """One read on the read-only connection: an indexed read takes microseconds."""
        rows = self._run(self._reader_conn(), statement, params)[0]
        return rows[0] if rows else None

    async def fetch_all(self, statement: Any, params: dict[str, Any]) -> list[Row]:
        """Every row of one read, on the read-only connection."""
        return self._run(self._reader_conn(), statement, params)[0]

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        """Several reads that see one state of the database (a read transaction on the
        read-only connection). The body must not await anything but its reads: they run
        inline, so no other request's statement can run on this connection meanwhile."""
        conn = self._reader_conn()
        conn.execute("BEGIN")
        try:
            yield _SqliteTx(self, conn)
        finally:
            conn.execute("COMMIT")

    def _writer_conn(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = connect_sqlite(self._path, busy_timeout_ms=2000)
        return self._writer

    async def statement(
        self, statement: Any, params: dict[str, Any], *, durable: bool = True
    ) -> tuple[Row | None, int]:
        """One write in its own transaction: its first row (RETURNING) and its row count.
        SQLite in WAL mode with synchronous=NORMAL treats every commit alike."""
        async with self._write_lock:
            rows, count = self._run(self._writer_conn(), statement, params)
        return (rows[0] if rows else None), count

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Tx]:
        async with self._write_lock:
            conn = self._writer_conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise ConnectionError(f"SQLite busy: {exc}") from exc
            try:
                yield _SqliteTx(self, conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None


# -- PostgreSQL ----------------------------------------------------------------------------


def _pg_errors() -> tuple[tuple[type[BaseException], ...], type[BaseException]]:
    import asyncpg

    lost = (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        # A pooled connection the server terminated can be handed out before asyncpg has read
        # the termination; using it then fails in asyncpg's protocol state machine.
        asyncpg.InternalClientError,
        OSError,
    )
    return lost, asyncpg.IntegrityConstraintViolationError


def _rowcount(status: str) -> int:
    """asyncpg's command status, e.g. ``UPDATE 1`` or ``INSERT 0 1``: the last number."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


class _PgTx:
    def __init__(self, direct: PostgresDirect, conn: Any) -> None:
        self._direct = direct
        self._conn = conn

    async def first(self, statement: Any, params: dict[str, Any]) -> Row | None:
        compiled = self._direct.compiled(statement)
        async with self._direct.translated():
            record = await self._conn.fetchrow(compiled.sql, *compiled.args(params))
        return None if record is None else Row(record.items())

    async def all(self, statement: Any, params: dict[str, Any]) -> list[Row]:
        compiled = self._direct.compiled(statement)
        async with self._direct.translated():
            records = await self._conn.fetch(compiled.sql, *compiled.args(params))
        return [Row(r.items()) for r in records]

    async def execute(self, statement: Any, params: dict[str, Any]) -> int:
        compiled = self._direct.compiled(statement)
        async with self._direct.translated():
            if compiled.returns_rows:
                return len(await self._conn.fetch(compiled.sql, *compiled.args(params)))
            return _rowcount(await self._conn.execute(compiled.sql, *compiled.args(params)))


async def _keep_session(conn: Any) -> None:
    """Pool reset: nothing. These connections never change session state, and asyncpg's
    default reset (``RESET ALL`` and more) costs a round trip on every release. An open
    transaction is still rolled back by asyncpg before this is called."""


class PostgresDirect(Direct):
    def __init__(self, dialect: Dialect, dsn: str, pool_size: int) -> None:
        super().__init__(dialect)
        self._dsn = dsn
        self._pool_size = pool_size
        self._pools: dict[bool, Any] = {}
        # Waiting for a connection happens here, in arrival order. asyncpg's pool queue lets
        # a newcomer take a just-released connection ahead of a waiter, which then goes to the
        # back of the line again: with more requests in flight than connections, a few waited
        # 50 ms to over a second while the median was 8 ms.
        self._gates = {True: asyncio.Semaphore(pool_size), False: asyncio.Semaphore(pool_size)}
        self._lock = asyncio.Lock()
        self._lost, self._conflict = _pg_errors()

    async def _pool(self, durable: bool) -> Any:
        pool = self._pools.get(durable)
        if pool is not None:
            return pool
        import asyncpg

        async with self._lock:
            if durable not in self._pools:
                settings = {} if durable else {"synchronous_commit": "off"}
                self._pools[durable] = await asyncpg.create_pool(
                    self._dsn,
                    # No floor: a pool that keeps one would log a traceback every time it
                    # tried to reconnect while the database is down.
                    min_size=0,
                    max_size=self._pool_size,
                    # A replica must not hang on a dead database: fail fast (503), retry later.
                    timeout=5,
                    command_timeout=10,
                    reset=_keep_session,
                    server_settings=settings,
                )
        return self._pools[durable]

    @asynccontextmanager
    async def translated(self) -> AsyncIterator[None]:
        """Driver errors as the server's: a lost connection is an outage (503), a constraint
        a Conflict; a timeout stays a TimeoutError (also a 503)."""
        try:
            yield
        except self._conflict as exc:
            raise Conflict(type(exc).__name__) from exc
        except self._lost as exc:
            if isinstance(exc, TimeoutError):
                raise
            raise ConnectionError(f"PostgreSQL unavailable: {type(exc).__name__}") from exc

    async def _first_use(self, durable: bool, sql: str, args: list[Any], fetch: bool | str) -> Any:
        """Acquire a connection and run the first command on it; once more on a fresh one if
        it was dead: after PostgreSQL restarts every pooled connection is, and the next
        request must not be the one that finds out. Returns (connection, result); the
        caller gives it back with :meth:`_release`."""
        await self._gates[durable].acquire()
        try:
            return await self._first_use_in_gate(durable, sql, args, fetch)
        except BaseException:
            self._gates[durable].release()
            raise

    async def _first_use_in_gate(
        self, durable: bool, sql: str, args: list[Any], fetch: bool | str
    ) -> Any:
        pool = await self._pool(durable)
        for attempt in (1, 2):
            async with self.translated():
                conn = await pool.acquire()
            try:
                async with self.translated():
                    if fetch == "all":
                        return conn, await conn.fetch(sql, *args)
                    if fetch:
                        return conn, await conn.fetchrow(sql, *args)
                    return conn, await conn.execute(sql, *args)
            except ConnectionError:
                await self._discard(pool, conn)
                if attempt == 2:
                    raise
            except BaseException as exc:  # a timeout (a hung database: no second wait), ...
                await self._give_back(pool, conn, exc)
                raise
        raise AssertionError("unreachable")

    @staticmethod
    async def _discard(pool: Any, conn: Any) -> None:
        """Drop a connection that failed or hung: a graceful release would wait for the
        database (a ROLLBACK, a cancellation) that is not answering."""
        with suppress(Exception):  # InterfaceError if asyncpg has already let it go
            conn.terminate()
        await pool.release(conn)

    async def _give_back(self, pool: Any, conn: Any, error: BaseException | None) -> None:
        """Return a connection after ``error`` (None: success). After an error in the caller
        or a refused statement its transaction is rolled back; after a timeout, a lost
        connection or a cancelled request the connection is dropped instead."""
        if error is None:
            await pool.release(conn)
            return
        healthy = isinstance(error, Exception) and not isinstance(
            error, (ConnectionError, TimeoutError, *self._lost)
        )
        if healthy:
            try:
                if conn.is_in_transaction():
                    await conn.execute("ROLLBACK", timeout=2)
            except Exception:
                healthy = False
        if healthy:
            await pool.release(conn, timeout=2)
        else:
            await self._discard(pool, conn)

    async def _release(self, durable: bool, conn: Any, error: BaseException | None = None) -> None:
        try:
            await self._give_back(self._pools[durable], conn, error)
        finally:
            self._gates[durable].release()

    async def fetch_first(self, statement: Any, params: dict[str, Any]) -> Row | None:
        """One read (autocommit: one round trip)."""
        return (await self.statement(statement, params))[0]

    async def fetch_all(self, statement: Any, params: dict[str, Any]) -> list[Row]:
        """Every row of one read (autocommit: one round trip)."""
        compiled = self.compiled(statement)
        conn, records = await self._first_use(True, compiled.sql, compiled.args(params), "all")
        await self._release(True, conn)
        return [Row(r.items()) for r in records]

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        """Several reads that see one state of the database (a read-only repeatable-read
        transaction)."""
        conn, _ = await self._first_use(
            True, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [], False
        )
        try:
            yield _PgTx(self, conn)
            async with self.translated():
                await conn.execute("COMMIT")
        except BaseException as exc:
            await self._release(True, conn, exc)
            raise
        await self._release(True, conn)

    async def statement(
        self, statement: Any, params: dict[str, Any], *, durable: bool = True
    ) -> tuple[Row | None, int]:
        """One statement in its own (implicit) transaction, one round trip: its first row and
        its row count (with RETURNING: 1 if it returned a row). A dead connection is retried
        once; the writes run here are safe to repeat (a count, a poll time, a transition)."""
        compiled = self.compiled(statement)
        conn, result = await self._first_use(
            durable, compiled.sql, compiled.args(params), compiled.returns_rows
        )
        await self._release(durable, conn)
        if compiled.returns_rows:
            return (None if result is None else Row(result.items())), int(result is not None)
        return None, _rowcount(result)

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Tx]:
        """A multi-statement transaction. BEGIN is the first command, so a dead pooled
        connection is found (and replaced) before anything of the body has run."""
        conn, _ = await self._first_use(durable, "BEGIN", [], False)
        try:
            yield _PgTx(self, conn)
            async with self.translated():
                await conn.execute("COMMIT")
        except BaseException as exc:
            await self._release(durable, conn, exc)  # rolls back, or drops the connection
            raise
        await self._release(durable, conn)

    async def close(self) -> None:
        for pool in self._pools.values():
            try:
                await asyncio.wait_for(pool.close(), 5)
            except TimeoutError:  # a connection still out (a request cut short): drop them
                pool.terminate()
        self._pools.clear()
