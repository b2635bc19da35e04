"""The hot paths on PostgreSQL: two asyncpg pools of ``DATABASE_POOL_SIZE`` connections each,
entered in arrival order. ``durable`` commits wait for the WAL flush as usual; ``relaxed``
connections run with ``synchronous_commit=off``, for one-statement bookkeeping whose loss in
a database crash harms nobody (a poll time, a rate-limit count). The database stays
consistent either way; only the last fraction of a second of such commits can be lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

from sqlalchemy.engine import Dialect

from better_skills.server.db_timeouts import PG_COMMAND_TIMEOUT_S, PG_CONNECT_TIMEOUT_S
from better_skills.server.direct.core import NO_PARAMS, Conflict, Direct, Row, Tx, first_value


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
    dialect = "postgresql"

    def __init__(self, direct: PostgresDirect, conn: Any) -> None:
        self._direct = direct
        self._conn = conn

    async def first(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Row | None:
        compiled = self._direct.compiled(statement)
        async with self._direct.translated():
            record = await self._conn.fetchrow(compiled.sql, *compiled.args(params))
        return None if record is None else Row(record.items())

    async def all(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> list[Row]:
        compiled = self._direct.compiled(statement)
        async with self._direct.translated():
            records = await self._conn.fetch(compiled.sql, *compiled.args(params))
        return [Row(r.items()) for r in records]

    async def scalar(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Any:
        return first_value(await self.first(statement, params))

    async def execute(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> int:
        compiled = self._direct.compiled(statement)
        async with self._direct.translated():
            if compiled.returns_rows:
                return len(await self._conn.fetch(compiled.sql, *compiled.args(params)))
            return _rowcount(await self._conn.execute(compiled.sql, *compiled.args(params)))

    async def execute_many(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        compiled = self._direct.compiled(statement)
        async with self._direct.translated():
            await self._conn.executemany(compiled.sql, [compiled.args(r) for r in rows])


class _PgAutocommit:
    """Each statement a transaction of its own on a pooled connection (one round trip):
    what ``PostgresDirect.statement`` runs, as a :class:`Tx`."""

    dialect = "postgresql"

    def __init__(self, direct: PostgresDirect, durable: bool) -> None:
        self._direct = direct
        self._durable = durable

    async def first(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Row | None:
        return (await self._direct.statement(statement, params, durable=self._durable))[0]

    async def all(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> list[Row]:
        return await self._direct.fetch_all(statement, params, durable=self._durable)

    async def scalar(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Any:
        return first_value(await self.first(statement, params))

    async def execute(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> int:
        return (await self._direct.statement(statement, params, durable=self._durable))[1]

    async def execute_many(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        async with self._direct.transaction(durable=self._durable) as tx:
            await tx.execute_many(statement, rows)


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
                    timeout=PG_CONNECT_TIMEOUT_S,
                    command_timeout=PG_COMMAND_TIMEOUT_S,
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

    async def fetch_first(self, statement: Any, params: Mapping[str, Any]) -> Row | None:
        """One read (autocommit: one round trip)."""
        return (await self.statement(statement, params))[0]

    async def fetch_all(
        self, statement: Any, params: Mapping[str, Any], *, durable: bool = True
    ) -> list[Row]:
        """Every row of one read (autocommit: one round trip)."""
        compiled = self.compiled(statement)
        conn, records = await self._first_use(durable, compiled.sql, compiled.args(params), "all")
        await self._release(durable, conn)
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
        self, statement: Any, params: Mapping[str, Any], *, durable: bool = True
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

    def autocommit(self, *, durable: bool = True) -> Tx:
        """A :class:`Tx` whose every statement commits on its own (as :meth:`statement`)."""
        return _PgAutocommit(self, durable)

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
