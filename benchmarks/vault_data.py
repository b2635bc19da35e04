"""Benchmark vaults built once and kept: a SQLite file per size, a PostgreSQL database per size.

    .venv/bin/python benchmarks/vault_data.py --backend sqlite --skills 100000 --data DIR
    .venv/bin/python benchmarks/vault_data.py --backend postgres --skills 100000 --data DIR

Building one: an empty database; ``better-skills-server`` started on it (it migrates and
installs the shipped skill); ten people signed up over HTTP (``bench0@example.com`` first);
the team vault ``bench-team`` made by the first and joined by the others through invitations
they accept, all over HTTP; the server stopped; then ``vault_seed.seed`` bulk-loads the
skills. A record ``DIR/<backend>-<size>.json`` is written last, so a load that did not finish
is built again, not reused.

Where they live: SQLite ``DIR/vault-<size>.db``; PostgreSQL the database ``bench_<size>``
(``--database`` names another), size as ``1k``, ``10k``, ``100k``. ``vault_bench.py --reuse``
measures each on a copy (a file copy; ``CREATE DATABASE ... TEMPLATE``), so the writes it
makes do not pile up, and starts the server on the kept one first when its schema is behind
the code's (the server migrates at start).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as base  # noqa: E402  (benchmarks/run.py: server process, PostgreSQL admin URL)
import vault_seed  # noqa: E402

from better_skills.protocol.device_flow import Paths  # noqa: E402

USERS = 10


def email(i: int) -> str:
    return f"bench{i}@example.com"


def password(i: int) -> str:
    return f"bench-password-{i}-long-enough"


def label(skills: int) -> str:
    return f"{skills // 1000}k" if skills % 1000 == 0 else str(skills)


def _client(server: base.Server, token: str | None = None) -> httpx.Client:
    headers = {"Origin": server.url}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=server.url, timeout=60, headers=headers)


def sign_in(server: base.Server, i: int) -> str:
    """A session token (to send as Bearer) of person ``i``."""
    with _client(server) as web:
        answer = web.post(Paths.SIGN_IN_EMAIL, json={"email": email(i), "password": password(i)})
        answer.raise_for_status()
        return str(answer.json()["token"])


def make_people(server: base.Server) -> None:
    """Ten people and the team vault they share, all over HTTP."""
    tokens = []
    with _client(server) as web:
        for i in range(USERS):
            answer = web.post(
                Paths.SIGN_UP_EMAIL,
                json={"name": f"Bench {i}", "email": email(i), "password": password(i)},
            )
            answer.raise_for_status()
            tokens.append(answer.json()["token"])
    with _client(server, tokens[0]) as owner:
        made = owner.post(
            "/api/v1/vaults", json={"name": "Bench Team", "slug": vault_seed.TEAM_SLUG}
        )
        made.raise_for_status()
        vault_id = made.json()["id"]
        for i in range(1, USERS):
            invited = owner.post(f"/api/v1/vaults/{vault_id}/invitations", json={"email": email(i)})
            invited.raise_for_status()
            with _client(server, tokens[i]) as member:
                member.post(f"/api/v1/invitations/{invited.json()['id']}/accept").raise_for_status()


def build(
    database_url: str, skills: int, folder: Path, *, src: Path | None = None, **seed_options: Any
) -> dict[str, Any]:
    """Prepare an empty database (server, people, team vault) and bulk-load ``skills``."""
    started = time.monotonic()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    server = base.Server(database_url, folder, workers=1, src=src)
    try:
        server.start()
        make_people(server)
    finally:
        server.stop()
    emails = [email(i) for i in range(USERS)]
    seeded = vault_seed.seed(database_url, emails, skills, **seed_options)
    return {
        "skills": skills,
        "seed_seconds": seeded["seconds"],
        "seed_cpu_seconds": seeded["cpu_seconds"],
        "seed_database_cpu_seconds": seeded["database_cpu_seconds"],
        "build_seconds": round(time.monotonic() - started, 1),
        "load_average": [load_before, Path("/proc/loadavg").read_text().split()[:3]],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


@dataclass(frozen=True)
class Kept:
    """A kept benchmark database and its record."""

    backend: str
    skills: int
    data: Path
    database: str | None = None  # PostgreSQL: another database name than bench_<size>

    @property
    def record_path(self) -> Path:
        return self.data / f"{self.backend}-{label(self.skills)}.json"

    @property
    def name(self) -> str:
        return self.database or f"bench_{label(self.skills)}"

    @property
    def url(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.data / f'vault-{label(self.skills)}.db'}"
        return f"{base.PG_ADMIN_URL.rsplit('/', 1)[0]}/{self.name}"

    def record(self) -> dict[str, Any] | None:
        if not self.record_path.exists() or not self.exists():
            return None
        return dict(json.loads(self.record_path.read_text()))

    def exists(self) -> bool:
        if self.backend == "sqlite":
            return Path(vault_seed.sqlite_path(self.url)).exists()
        return bool(_pg_admin("SELECT 1 FROM pg_database WHERE datname = %s", self.name))

    def remove(self) -> None:
        self.record_path.unlink(missing_ok=True)
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(vault_seed.sqlite_path(self.url) + suffix).unlink(missing_ok=True)
        else:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _pg_admin(sql: str, *params: Any) -> list[tuple]:
    import psycopg

    with psycopg.connect(base.PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(sql.encode(), params or None)  # type: ignore[call-overload]
        return cursor.fetchall() if cursor.description else []


def ensure(
    kept: Kept, *, src: Path | None = None, rebuild: bool = False, **seed_options: Any
) -> dict[str, Any]:
    """The kept database's record, building it first if it is missing or unfinished."""
    found = None if rebuild else kept.record()
    if found is not None:
        return found
    kept.remove()
    kept.data.mkdir(parents=True, exist_ok=True)
    if kept.backend == "postgres":
        _pg_admin(f'CREATE DATABASE "{kept.name}"')
    base.log(f"{kept.backend}: building {kept.skills:,} skills into {kept.url}")
    with tempfile.TemporaryDirectory(prefix="bs-vault-build-") as tmp:
        try:
            record = build(kept.url, kept.skills, Path(tmp), src=src, **seed_options)
        except BaseException:
            kept.remove()
            raise
    kept.record_path.write_text(json.dumps(record, indent=1) + "\n")
    base.log(
        f"{kept.backend}: built in {record['build_seconds']} s (seed {record['seed_seconds']} s)"
    )
    return record


def schema_head(src: Path | None) -> str:
    """The newest migration of the tree whose server is benchmarked."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    if src is None:
        import better_skills.server.db as db

        folder = db.MIGRATIONS_DIR
    else:
        folder = src / "better_skills" / "server" / "migrations"
    config = Config()
    config.set_main_option("script_location", str(folder))
    return str(ScriptDirectory.from_config(config).get_current_head())


def migrate_if_behind(kept: Kept, folder: Path, src: Path | None = None) -> None:
    """Start the server on the kept database when its schema is older than the code's (it
    migrates at start), so that each working copy does not migrate again."""
    version = vault_seed.query(kept.url, "SELECT version_num FROM alembic_version")
    if version and version[0][0] == schema_head(src):
        return
    base.log(f"{kept.backend} {label(kept.skills)}: migrating {version} to {schema_head(src)}")
    server = base.Server(kept.url, folder, workers=1, src=src)
    try:
        server.start(timeout=1800)
    finally:
        server.stop()


@contextlib.contextmanager
def working_copy(kept: Kept, folder: Path) -> Iterator[str]:
    """A DATABASE_URL of a copy of the kept database, removed afterwards."""
    if kept.backend == "sqlite":
        copy = folder / "bench.db"
        shutil.copyfile(vault_seed.sqlite_path(kept.url), copy)
        os.chmod(copy, 0o600)
        yield f"sqlite:///{copy}"
        return
    name = f"bs_bench_{secrets.token_hex(5)}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{kept.name}" STRATEGY FILE_COPY')
    try:
        yield f"{base.PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--skills", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True, help="kept files and records")
    parser.add_argument("--database", help="PostgreSQL: this name instead of bench_<size>")
    parser.add_argument("--rebuild", action="store_true", help="even if one is kept")
    parser.add_argument("--processes", type=int, default=2, help="processes building rows")
    args = parser.parse_args(argv)
    kept = Kept(args.backend, args.skills, args.data.resolve(), args.database)
    record = ensure(kept, rebuild=args.rebuild, processes=args.processes)
    print(json.dumps({"url": kept.url, **record}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
