"""Database access below the services: one transaction API (:class:`Tx`, rows as :class:`Row`)
over two kinds of connection.

- ``engine``: SQLAlchemy's async engine, for every transaction of ``Database.read()`` and
  ``Database.write()`` (pages, accounts, vault writes, the sweep).
- ``sqlite`` and ``postgres``: the hot paths' SQL straight through the driver (``sqlite3``
  inline, asyncpg's own pools). The calls every client makes (get-session, device/code,
  device/token, the list and manifest reads) each run one to four small indexed statements;
  through SQLAlchemy's async engine each statement cost more CPU than the database spent on
  it (compiled-cache lookups, parameter processing, result objects, greenlet switches, a
  pre-ping round trip per checkout). Here each statement is an ordinary SQLAlchemy Core
  construct, compiled once per dialect (``core``), and then executed by the driver itself.
"""

from better_skills.server.direct.core import (
    NO_PARAMS,
    SQLITE_BATCH_PARAMETERS,
    Compiled,
    Conflict,
    Direct,
    Row,
    Tx,
    batches,
    compile_statement,
    first_value,
    insert_statement,
)
from better_skills.server.direct.engine import EngineTx
from better_skills.server.direct.postgres import PostgresDirect
from better_skills.server.direct.sqlite import SqliteDirect

__all__ = [
    "NO_PARAMS",
    "SQLITE_BATCH_PARAMETERS",
    "Compiled",
    "Conflict",
    "Direct",
    "EngineTx",
    "PostgresDirect",
    "Row",
    "SqliteDirect",
    "Tx",
    "batches",
    "compile_statement",
    "first_value",
    "insert_statement",
]
