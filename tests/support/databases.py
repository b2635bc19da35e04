"""Fresh test databases: a SQLite file, or a PostgreSQL database created and dropped per use.

Running the migrations takes a second or more per database, so each test process migrates
one template per backend (:class:`Templates`) and hands out copies of it: a file copy for
SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL. Tests marked ``empty_database`` get
an empty database instead, on which the server runs the migrations itself. A test's
PostgreSQL database is made in a background thread while the test before it runs, and
dropped in another once the test is over.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import shutil
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


def _new_postgres(template: str | None = None) -> tuple[str, str]:
    """A new PostgreSQL database: its name and URL. Commits are not flushed to disk before
    they return (``synchronous_commit = off``): nothing a test checks survives a crash of
    the PostgreSQL server, and the flush is most of a small commit's cost."""
    name = f"bs_test_{secrets.token_hex(6)}"
    _admin_execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    _admin_execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return name, f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _drop_postgres(name: str) -> None:
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Dropper:
    """Drops a test's PostgreSQL database in a background thread, so that the next test does
    not wait for it: a DROP DATABASE waits for a checkpoint, seconds on a busy machine, while
    the test is over. :meth:`drain` (at the end of a test process) waits for every drop and
    raises the first that failed."""

    def __init__(self) -> None:
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: list[concurrent.futures.Future[None]] = []

    def drop_later(self, name: str) -> None:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, "drop-test-database")
        self._pending = [f for f in self._pending if not f.done() or f.exception()]
        self._pending.append(self._pool.submit(_drop_postgres, name))

    def drain(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()


_dropper = _Dropper()
#: Wait for the background drops (tests/conftest.py calls it when a test process ends).
drain_drops = _dropper.drain


def _migrate(url: str) -> None:
    from better_skills.server.db import create_engine, migrate
    from better_skills.server.settings import load_settings

    async def run() -> None:
        engine = create_engine(load_settings({"DATABASE_URL": url, "SECRET_KEY": "k" * 40}))
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    # In a thread of its own: a browser module's Playwright keeps an event loop running in
    # this one, and the first database of a worker may be made there.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


class Templates:
    """One migrated database per backend, made on first use and copied for each test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        #: The next copy of the PostgreSQL template, made in the background while a test runs.
        self._next_copy: concurrent.futures.Future[tuple[str, str]] | None = None
        self._copier: concurrent.futures.ThreadPoolExecutor | None = None

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "template.db"
            _migrate(f"sqlite:///{path}")
            self._sqlite = path
        return self._sqlite

    def postgres(self) -> str:
        if self._postgres is None:
            name, url = _new_postgres()
            try:
                _migrate(url)
            except BaseException:
                _drop_postgres(name)
                raise
            self._postgres = name
        return self._postgres

    def postgres_copy(self) -> tuple[str, str]:
        """A new copy of the PostgreSQL template (its name and URL): the one made in the
        background since the last call, and the next one is started."""
        template = self.postgres()
        ready, self._next_copy = self._next_copy, None
        if self._copier is None:
            self._copier = concurrent.futures.ThreadPoolExecutor(1, "copy-test-database")
        self._next_copy = self._copier.submit(_new_postgres, template)
        return ready.result() if ready is not None else _new_postgres(template)

    def close(self) -> None:
        if self._next_copy is not None:
            _drop_postgres(self._next_copy.result()[0])
            self._next_copy = None
        if self._copier is not None:
            self._copier.shutdown()
        if self._postgres is not None:
            _drop_postgres(self._postgres)
            self._postgres = None


@contextmanager
def fresh_database(backend: str, folder: Path, templates: Templates | None = None) -> Iterator[str]:
    """A ``DATABASE_URL`` for a database of ``backend`` ("sqlite" or "postgres") of its own:
    migrated to the latest revision when ``templates`` is given, else empty."""
    if backend == "sqlite":
        path = folder / "better-skills.db"
        if templates is not None:
            shutil.copyfile(templates.sqlite(), path)
            os.chmod(path, 0o600)  # as the server makes it
        yield f"sqlite:///{path}"
        return
    name, url = templates.postgres_copy() if templates is not None else _new_postgres()
    try:
        yield url
    finally:
        _dropper.drop_later(name)
