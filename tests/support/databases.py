"""Fresh test databases: a SQLite file, or a PostgreSQL database created and dropped per use."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def postgres_available() -> bool:
    try:
        _admin_execute("SELECT 1")
    except Exception:
        return False
    return True


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A ``DATABASE_URL`` for an empty database of ``backend`` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'better-skills.db'}"
        return
    name = f"bs_test_{secrets.token_hex(6)}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
