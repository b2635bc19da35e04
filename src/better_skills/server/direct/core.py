"""The one transaction API of the services: :class:`Tx`, its rows (:class:`Row`) and its
errors, and statements compiled once per dialect for the driver-level transactions.

A :class:`Tx` comes from ``Database.read()``/``Database.write()`` (SQLAlchemy's engine under
it: any Core statement, with SQLAlchemy's type handling) or from ``Database.direct`` (the
hot paths, straight through the driver: statements compiled once, so no expanding ``IN``,
values the driver takes as they are). Services and query modules see only :class:`Tx`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy.engine import Dialect


class Conflict(Exception):
    """A unique (or foreign key) constraint refused the row."""


_MISSING = object()
#: The parameters of a statement that has none (or holds its values itself).
NO_PARAMS: Mapping[str, Any] = {}


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


def first_value(row: Row | None) -> Any:
    """The first column of a row (None for no row): what ``scalar`` answers."""
    return None if row is None else next(iter(row.values()), None)


@dataclass(frozen=True)
class Compiled:
    """A statement compiled for one dialect: its SQL and where each parameter goes."""

    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]
    returns_rows: bool

    def args(self, params: Mapping[str, Any]) -> list[Any]:
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


#: Most parameters in one SQLite statement of many rows: SQLite's smallest build limit (999
#: before 3.32), so any libsqlite3 takes it.
SQLITE_BATCH_PARAMETERS = 999


def batches(rows: list[Any], per_row: int) -> list[list[Any]]:
    """``rows`` in runs of at most :data:`SQLITE_BATCH_PARAMETERS` parameters each."""
    size = max(1, SQLITE_BATCH_PARAMETERS // max(1, per_row))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def insert_statement(table: Table, *columns: str) -> Insert:
    """``INSERT INTO table (columns) VALUES (...)`` with one parameter per column, named after
    it: compiled once, it runs through every kind of :class:`Tx` alike."""
    return insert(table).values({name: bindparam(name) for name in columns})


class Tx(Protocol):
    """One open transaction (or, from ``Direct.autocommit``, statements that each commit on
    their own). Constraint violations raise :class:`Conflict`; a database that cannot be
    reached or is busy raises ``ConnectionError`` (503)."""

    #: "sqlite" or "postgresql": what the query modules choose their dialect variants by.
    dialect: str

    async def first(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Row | None:
        """The first row, or None."""
        ...

    async def all(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> list[Row]:
        """Every row."""
        ...

    async def scalar(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Any:
        """The first column of the first row, or None."""
        ...

    async def execute(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> int:
        """Run a statement: the rows it changed (with RETURNING: the rows it returned)."""
        ...

    async def execute_many(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        """Insert many rows: ``statement`` is an INSERT whose every written column is a
        key of each row (:func:`insert_statement`, or a bare ``insert(table)``). On SQLite
        the rows go in as few statements as possible (see ``sqlite.execute_many``)."""
        ...


class Direct:
    """Compiles statements once per dialect; subclasses run them."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        #: "sqlite" or "postgresql"
        self.dialect_name: str = dialect.name
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
