"""An aiosqlite look-alike that runs each SQLite call inline, on the event loop's thread.

SQLite is a library, not a server: an indexed read or a small write transaction (WAL,
synchronous=NORMAL) costs tens of microseconds of CPU. aiosqlite runs every call on a worker
thread and hands the result back through the event loop; SQLAlchemy's adapter makes four such
calls per statement (cursor, execute, fetchall, close), so a get-session paid about ten thread
hops, each costing more than the query. Given to SQLAlchemy's aiosqlite dialect through
``async_creator``, these classes keep SQLAlchemy's async API and drop the hops.

The price: a statement that waits on SQLite's lock (another process writing) blocks the loop
for that wait, so the server queues its own writers on an ``asyncio.Lock`` and keeps
``busy_timeout`` short; with ``WORKERS=1`` no other writer exists. A large write (a big skill
upload) blocks the loop for its whole length: docs/performance.md measures both sides and
says how heavy writes should leave the loop.

It imitates private parts of aiosqlite's ``Connection`` that SQLAlchemy's adapter touches
(``_connection`` and ``_tx.put_nowait``), checked against SQLAlchemy 2.1.9 and aiosqlite
0.22.1 (both pinned exactly for that reason); every test through the engine on SQLite fails
if an upgrade moves them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *_sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize


class _InlineQueue:
    """SQLAlchemy sets ``isolation_level`` by queueing a function for aiosqlite's thread."""

    @staticmethod
    def put_nowait(item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection = conn  # SQLAlchemy checks it is set before commit and rollback
        self._tx = _InlineQueue()

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> InlineCursor:
        return InlineCursor(self._conn.execute(sql, parameters))

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


def connect_sqlite(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    """A connection as every part of the server uses SQLite: WAL (readers never wait for
    the writer), ``synchronous=NORMAL``, foreign keys on, and autocommit unless the caller
    says ``BEGIN``."""
    # check_same_thread=False only because connections may be closed from another thread
    # (SQLAlchemy's garbage-collection hooks); all use is on the event loop's thread.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (
        f"busy_timeout={busy_timeout_ms}",
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def inline_creator(path: str, busy_timeout_ms: int) -> Callable[[], Any]:
    async def connect() -> InlineConnection:
        return InlineConnection(connect_sqlite(path, busy_timeout_ms))

    return connect
