"""How long the server waits on its database: every driver's timeouts in one place (the
engine, the heavy-write engine and the driver-direct connections must agree)."""

#: Connecting to PostgreSQL, in seconds: a replica must not hang on a dead database (503).
PG_CONNECT_TIMEOUT_S = 5
#: One PostgreSQL statement, in seconds.
PG_COMMAND_TIMEOUT_S = 10
#: Waiting for a free connection of the engine's pool, in seconds.
POOL_TIMEOUT_S = 10
#: SQLite writers: how long to wait for another process's write lock, in milliseconds.
SQLITE_WRITE_BUSY_MS = 2000
#: SQLite's read-only connection, in milliseconds: WAL readers wait only for a checkpoint.
SQLITE_READ_BUSY_MS = 200
