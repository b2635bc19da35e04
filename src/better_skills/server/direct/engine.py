""":class:`Tx` over a SQLAlchemy connection: what ``Database.read()`` and ``Database.write()``
yield. Any Core statement runs here (expanding ``IN``, JSON columns, inserts of many rows),
with SQLAlchemy's type handling; rows come back as :class:`Row`, like the driver-level ones."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from better_skills.server.direct.core import (
    NO_PARAMS,
    Conflict,
    Row,
    batches,
    insert_statement,
)


class EngineTx:
    __slots__ = ("_conn", "dialect")

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.dialect: str = conn.dialect.name

    async def _run(self, statement: Any, params: Any) -> Any:
        try:
            return await self._conn.execute(statement, params or None)
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc

    async def first(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Row | None:
        row = (await self._run(statement, params)).first()
        return None if row is None else Row(row._mapping)

    async def all(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> list[Row]:
        result = await self._run(statement, params)
        keys = list(result.keys())
        return [Row(zip(keys, row, strict=True)) for row in result.all()]

    async def scalar(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Any:
        return (await self._run(statement, params)).scalar()

    async def execute(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> int:
        result = await self._run(statement, params)
        if result.returns_rows:
            return len(result.all())
        return max(0, result.rowcount or 0)

    async def execute_many(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        plain = self.dialect == "sqlite" and _plain_insert(
            statement, tuple(rows[0]), self._conn.dialect
        )
        if not plain:
            await self._run(statement, rows)
            return
        # On SQLite one statement of many rows per batch, as the driver-level transaction
        # does (see sqlite.execute_many: FTS5 flushes its index at every statement).
        for batch in batches(rows, len(rows[0])):
            await self._run(insert(statement.table).values(batch), None)


@lru_cache(maxsize=64)
def _plain_insert(statement: Any, columns: tuple[str, ...], dialect: Dialect) -> bool:
    """Whether ``statement`` is a bare ``insert(table)`` or :func:`insert_statement` of these
    columns, the only INSERTs rebuilt as one of many rows: anything more (ON CONFLICT,
    RETURNING, a prefix, constant values) keeps its own SQL, row by row. Cached: the
    statements are module constants, compiled here once."""
    if not isinstance(statement, Insert):
        return False
    sql = str(statement.compile(dialect=dialect))
    plain = (insert(statement.table), insert_statement(statement.table, *columns))
    return any(sql == str(p.compile(dialect=dialect)) for p in plain)
