"""The hot paths on SQLite: ``sqlite3`` calls inline on the event loop's thread (see
sqlite_inline for why that is right for SQLite), on one writer connection queued behind the
same ``asyncio.Lock`` as the engine's writers, and one read-only connection for reads (WAL
readers never wait)."""

from __future__ import annotations

import asyncio
import functools
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.engine import Dialect

from better_skills.server.db_timeouts import SQLITE_READ_BUSY_MS, SQLITE_WRITE_BUSY_MS
from better_skills.server.direct.core import (
    NO_PARAMS,
    Conflict,
    Direct,
    Row,
    Tx,
    batches,
    first_value,
)
from better_skills.server.sqlite_inline import connect_sqlite


def _sqlite_rows(cursor: sqlite3.Cursor) -> list[Row]:
    # fetchall steps the statement to its end: a RETURNING statement left half-read would
    # keep its implicit transaction (and the write lock) open.
    rows = cursor.fetchall()
    if not rows:
        return []
    names = [d[0] for d in cursor.description]
    return [Row(zip(names, row, strict=True)) for row in rows]


#: SQLite's primary result codes that mean the database cannot serve now, not that the
#: statement is wrong: busy, locked, read-only, I/O error, full disk, cannot open.
_OUTAGE_CODES = frozenset({5, 6, 8, 10, 13, 14})


def busy_or_raise(exc: sqlite3.OperationalError) -> ConnectionError:
    """An outage of SQLite ("database is locked", busy, a full disk, an I/O error: 503, try
    again later); any other OperationalError (a missing table, a syntax error) is a bug and
    propagates as it is."""
    code = getattr(exc, "sqlite_errorcode", None)
    message = str(exc).lower()
    if (code is not None and code & 0xFF in _OUTAGE_CODES) or "locked" in message:
        return ConnectionError(f"SQLite unavailable: {exc}")
    raise exc


class _SqliteTx:
    dialect = "sqlite"

    def __init__(self, direct: SqliteDirect, conn: sqlite3.Connection) -> None:
        self._direct = direct
        self._conn = conn

    async def first(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Row | None:
        rows = self._direct._run(self._conn, statement, params)[0]
        return rows[0] if rows else None

    async def all(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> list[Row]:
        return self._direct._run(self._conn, statement, params)[0]

    async def scalar(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Any:
        return first_value(await self.first(statement, params))

    async def execute(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> int:
        return self._direct._run(self._conn, statement, params)[1]

    async def execute_many(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        """One ``INSERT ... VALUES (...), (...)`` per batch, not one statement per row: FTS5
        writes its pending index to a new segment at every statement of a transaction (each
        opens a savepoint), so the 20 files of a skill inserted row by row made 20 one-page
        segments, and their merges cost most of a create (docs/performance.md)."""
        compiled = self._direct.compiled(statement)
        args = [compiled.args(r) for r in rows]
        values = _values_group(compiled.sql)
        with self._direct.translated():
            if values is None:  # not a plain INSERT ... VALUES: row by row
                self._conn.executemany(compiled.sql, args)
                return
            for batch in batches(args, len(compiled.names)):
                sql = compiled.sql + f", {values}" * (len(batch) - 1)
                self._conn.execute(sql, [value for row in batch for value in row])


_VALUES = re.compile(r" VALUES (\(\?(?:, \?)*\))$")


@functools.lru_cache(maxsize=64)
def _values_group(sql: str) -> str | None:
    """The ``(?, ?, ...)`` that ends a plain ``INSERT ... VALUES`` statement, else None."""
    found = _VALUES.search(sql) if sql.startswith("INSERT INTO ") else None
    return found.group(1) if found else None


class _SqliteAutocommit(_SqliteTx):
    """Each statement a transaction of its own on the writer connection, queued behind the
    write lock: what ``SqliteDirect.statement`` runs, as a :class:`Tx`."""

    def __init__(self, direct: SqliteDirect) -> None:
        super().__init__(direct, direct._writer_conn())

    async def first(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Row | None:
        return (await self._direct.statement(statement, params))[0]

    async def all(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> list[Row]:
        async with self._direct._write_lock:
            return self._direct._run(self._conn, statement, params)[0]

    async def execute(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> int:
        return (await self._direct.statement(statement, params))[1]

    async def execute_many(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        # All the rows or none: several batches are several statements, so one transaction.
        async with self._direct.transaction() as tx:
            await tx.execute_many(statement, rows)


class SqliteDirect(Direct):
    def __init__(self, dialect: Dialect, path: str, write_lock: asyncio.Lock) -> None:
        super().__init__(dialect)
        self._path = path
        self._write_lock = write_lock
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None

    @staticmethod
    def translated() -> _Translated:
        return _TRANSLATED

    def _run(
        self, conn: sqlite3.Connection, statement: Any, params: Mapping[str, Any]
    ) -> tuple[list[Row], int]:
        compiled = self.compiled(statement)
        try:
            cursor = conn.execute(compiled.sql, compiled.args(params))
            rows = _sqlite_rows(cursor)
            return rows, len(rows) if compiled.returns_rows else cursor.rowcount
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            raise busy_or_raise(exc) from exc

    def _reader_conn(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = connect_sqlite(self._path, busy_timeout_ms=SQLITE_READ_BUSY_MS)
            self._reader.execute("PRAGMA query_only=ON")
        return self._reader

    async def fetch_first(self, statement: Any, params: Mapping[str, Any]) -> Row | None:
        """One read on the read-only connection: an indexed read takes microseconds."""
        rows = self._run(self._reader_conn(), statement, params)[0]
        return rows[0] if rows else None

    async def fetch_all(self, statement: Any, params: Mapping[str, Any]) -> list[Row]:
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
            self._writer = connect_sqlite(self._path, busy_timeout_ms=SQLITE_WRITE_BUSY_MS)
        return self._writer

    async def statement(
        self, statement: Any, params: Mapping[str, Any], *, durable: bool = True
    ) -> tuple[Row | None, int]:
        """One write in its own transaction: its first row (RETURNING) and its row count.
        SQLite in WAL mode with synchronous=NORMAL treats every commit alike."""
        async with self._write_lock:
            rows, count = self._run(self._writer_conn(), statement, params)
        return (rows[0] if rows else None), count

    def autocommit(self, *, durable: bool = True) -> Tx:
        """A :class:`Tx` whose every statement commits on its own (as :meth:`statement`)."""
        return _SqliteAutocommit(self)

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Tx]:
        async with self._write_lock:
            conn = self._writer_conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise busy_or_raise(exc) from exc
            try:
                yield _SqliteTx(self, conn)
            except BaseException:
                conn.rollback()
                raise
            try:
                with _TRANSLATED:
                    conn.commit()
            finally:
                # A COMMIT refused (a deferred constraint, a full disk, busy) leaves the
                # transaction open on the shared writer: end it, or every later BEGIN fails.
                if conn.in_transaction:
                    conn.rollback()

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None


class _Translated:
    """sqlite3's errors as the server's, around a call that is not ``_run``."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, _tb: Any) -> None:
        if isinstance(exc, sqlite3.IntegrityError):
            raise Conflict(str(exc)) from exc
        if isinstance(exc, sqlite3.OperationalError):
            raise busy_or_raise(exc) from exc


_TRANSLATED = _Translated()
