"""Bulk-load the benchmark vault: N skills of 3 files each (``vault_content.py``) into a database
whose people and team vault the server made.

    .venv/bin/python benchmarks/vault_seed.py DATABASE_URL --skills 100000

The database must already hold the schema, the people (signed up over HTTP, each with the
personal vault and system membership sign-up gives) and the team vault ``bench-team`` that
all of them belong to (made and joined over HTTP): ``vault_data.py`` prepares it so. The
server must not be running. Skills go to the team vault (500), the first person's vault (500
more: that person syncs exactly 1,000) and evenly to the others' personal vaults.

The rows are the server's own (see ``vault_content``): skills, files, mention edges, one
``skill_create`` audit row per skill, and each vault's ``revision`` bumped once per skill, as
``POST /api/v1/skills`` does. Loading is in bulk, in one transaction:

- SQLite: ``executemany`` with the journal off, ``synchronous=OFF`` and a 1 GiB page cache
  (a throwaway database; WAL is switched back on at the end);
- PostgreSQL: ``COPY`` (asyncpg ``copy_records_to_table``), ``synchronous_commit=off``.

The search index (migration 0005) is kept by row triggers. Firing them row by row is most of
a load's time, so the seeder sets them aside for the load (SQLite: drops them and re-creates
them from their stored SQL; PostgreSQL: ``DISABLE TRIGGER USER`` and the side tables'
indexes dropped), then fills the index for the new rows with the statements the migration
uses for rows written before it, which mirror the triggers, and puts the triggers and indexes
back, all in the same transaction. ``--via-triggers`` loads through the triggers instead (the
test compares the two).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import vault_content as content  # noqa: E402

TEAM_SLUG = "bench-team"
# Re-exported: the benchmark's scenarios name them.
COMMON, RARE, TWO_LETTERS = content.COMMON, content.RARE, content.TWO_LETTERS
MANIFEST_SKILLS = content.MANIFEST_SKILLS

# The search index of rows loaded past the marks (migration 0005's back-fill, restricted).
_SQLITE_INDEX = [
    "INSERT INTO search_skill_keys (skill_id, vault_id, name, slug)"
    " SELECT id, vault_id, name, slug FROM skills WHERE rowid > :skill_mark",
    "INSERT INTO search_meta (rowid, name, slug, description)"
    " SELECT k.id, s.name, s.slug, s.description"
    " FROM skills s JOIN search_skill_keys k ON k.skill_id = s.id WHERE s.rowid > :skill_mark",
    "INSERT INTO search_file_keys (file_id, skill_id, skill_key, vault_id, path)"
    " SELECT f.id, f.skill_id, k.id, s.vault_id, f.path FROM skill_files f"
    " JOIN skills s ON s.id = f.skill_id JOIN search_skill_keys k ON k.skill_id = s.id"
    " WHERE f.rowid > :file_mark AND instr(f.content, x'00') = 0",
    "INSERT INTO search_body (rowid, body) SELECT k.id, CAST(f.content AS TEXT)"
    " FROM skill_files f JOIN search_file_keys k ON k.file_id = f.id WHERE f.rowid > :file_mark",
]
_POSTGRES_INDEX = [
    "INSERT INTO search_skills (skill_id, vault_id, name, slug, description)"
    " SELECT id, vault_id, name, slug, description FROM skills s"
    " WHERE NOT EXISTS (SELECT 1 FROM search_skills x WHERE x.skill_id = s.id)",
    "INSERT INTO search_files (file_id, skill_id, vault_id, path, body)"
    " SELECT id, skill_id, vault_id, path, body FROM ("
    "  SELECT f.id, f.skill_id, s.vault_id, f.path, search_text_of(f.content) AS body"
    "  FROM skill_files f JOIN skills s ON s.id = f.skill_id"
    "  WHERE NOT EXISTS (SELECT 1 FROM search_files x WHERE x.file_id = f.id)) t"
    " WHERE body IS NOT NULL",
]
#: Tables whose secondary indexes are dropped for a PostgreSQL load and built afterwards.
_PG_REINDEXED = ("skills", "search_skills", "search_files", "skill_links", "audit_log")


def backend_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


def sqlite_path(database_url: str) -> str:
    return database_url.split(":///", 1)[1]


def pg_url(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def query(database_url: str, sql: str, *args: Any) -> list[tuple]:
    """One read (``$1``-style parameters)."""
    if backend_of(database_url) == "sqlite":
        conn = sqlite3.connect(sqlite_path(database_url), timeout=30)
        try:
            return conn.execute(sql.replace("$1", "?"), args).fetchall()
        finally:
            conn.close()

    async def run() -> list[tuple]:
        import asyncpg

        conn = await asyncpg.connect(pg_url(database_url))
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


def layout(database_url: str, emails: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """The team vault's id, and (user id, personal vault id) per email, in the given order."""
    team = query(database_url, "SELECT id FROM vaults WHERE type = 'team' AND slug = $1", TEAM_SLUG)
    if not team:
        raise SystemExit(f"no team vault {TEAM_SLUG!r}: prepare the database with vault_data.py")
    rows = query(
        database_url,
        "SELECT u.email, u.id, v.id FROM users u JOIN vaults v"
        " ON v.owner_user_id = u.id AND v.type = 'personal'",
    )
    found = {email: (user, vault) for email, user, vault in rows}
    return team[0][0], [found[e] for e in emails]


def seed(
    database_url: str,
    emails: list[str],
    skills: int,
    *,
    team_skills: int = 500,
    seed_value: int = 1,
    processes: int = 2,
    verify_every: int = 50,
    via_triggers: bool = False,
) -> dict[str, Any]:
    """Load the skills; ``emails`` are the people's, the first the 1,000-skill syncer."""
    started = time.monotonic()
    cpu_before = _own_cpu()
    team, personal = layout(database_url, emails)
    shares = content.plan(skills, team, personal, team_skills)
    start_ms = int(time.time() * 1000) - skills - 10
    rows = content.batches(
        shares, seed_value, start_ms, processes=processes, verify_every=verify_every
    )
    revisions = [(s.count, s.vault_id) for s in shares]
    database_cpu = 0.0
    if backend_of(database_url) == "sqlite":
        _sqlite(sqlite_path(database_url), rows, revisions, via_triggers)
    else:
        database_cpu = asyncio.run(_postgres(pg_url(database_url), rows, revisions, via_triggers))
    return {
        "seconds": round(time.monotonic() - started, 1),
        # On a busy machine the wall time says more about the others than about the load.
        "cpu_seconds": round(_own_cpu() - cpu_before, 1),
        "database_cpu_seconds": round(database_cpu, 1),
        "skills": skills,
        "team_vault": team,
        "vaults": [(s.vault_id, s.count) for s in shares],
    }


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def _sqlite(
    path: str, rows: Iterator[content.Batch], revisions: list[tuple[int, str]], via_triggers: bool
) -> None:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-1048576",
            "temp_store=MEMORY",
            "locking_mode=EXCLUSIVE",
            "foreign_keys=ON",
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN IMMEDIATE")
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name IN ('skills', 'skill_files') ORDER BY name"
        ).fetchall()
        skill_mark = conn.execute("SELECT coalesce(max(rowid), 0) FROM skills").fetchone()[0]
        file_mark = conn.execute("SELECT coalesce(max(rowid), 0) FROM skill_files").fetchone()[0]
        if not via_triggers:
            for name, _ in triggers:
                conn.execute(f'DROP TRIGGER "{name}"')
        for batch in rows:
            conn.executemany(_insert_sql("skills", content.SKILL_COLUMNS), batch.skills)
            conn.executemany(_insert_sql("skill_files", content.FILE_COLUMNS), batch.files)
            conn.executemany(_insert_sql("skill_links", content.LINK_COLUMNS), batch.links)
            conn.executemany(_insert_sql("audit_log", content.AUDIT_COLUMNS), batch.audit)
        if not via_triggers:
            marks = {"skill_mark": skill_mark, "file_mark": file_mark}
            for statement in _SQLITE_INDEX:
                conn.execute(statement, marks)
            for _, sql in triggers:
                conn.execute(sql)
        conn.executemany("UPDATE vaults SET revision = revision + ? WHERE id = ?", revisions)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA locking_mode=NORMAL")
        conn.execute("PRAGMA journal_mode=WAL")  # as the server runs it
    finally:
        conn.close()


def _own_cpu() -> float:
    """CPU seconds of this process and its finished children (the row builders)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds of a process on this machine (0 if it cannot be read, e.g. remote)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _postgres(
    url: str, rows: Iterator[content.Batch], revisions: list[tuple[int, str]], via_triggers: bool
) -> float:
    """Load; returns the CPU seconds of the PostgreSQL backend that did it."""
    import asyncpg

    conn = await asyncpg.connect(url, command_timeout=None)
    backend_pid = await conn.fetchval("SELECT pg_backend_pid()")
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        async with conn.transaction():
            indexes: list[str] = []
            if not via_triggers:
                await conn.execute("ALTER TABLE skills DISABLE TRIGGER USER")
                await conn.execute("ALTER TABLE skill_files DISABLE TRIGGER USER")
                indexes = await _drop_secondary_indexes(conn, _PG_REINDEXED)
            for batch in rows:
                for table, columns, records in (
                    ("skills", content.SKILL_COLUMNS, batch.skills),
                    ("skill_files", content.FILE_COLUMNS, batch.files),
                    ("skill_links", content.LINK_COLUMNS, batch.links),
                    ("audit_log", content.AUDIT_COLUMNS, batch.audit),
                ):
                    if records:
                        await conn.copy_records_to_table(table, records=records, columns=columns)
            if not via_triggers:
                for statement in _POSTGRES_INDEX:
                    await conn.execute(statement)
                await conn.execute("ALTER TABLE skills ENABLE TRIGGER USER")
                await conn.execute("ALTER TABLE skill_files ENABLE TRIGGER USER")
                for definition in indexes:
                    await conn.execute(definition)
            await conn.executemany(
                "UPDATE vaults SET revision = revision + $1 WHERE id = $2", revisions
            )
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")
        return _process_cpu(backend_pid)
    finally:
        await conn.close()


async def _drop_secondary_indexes(conn: Any, tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes of ``tables`` that back no constraint; their definitions, to rebuild
    them exactly (a GIN trigram index is several times faster to build than to grow)."""
    found = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " WHERE t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        list(tables),
    )
    for row in found:
        await conn.execute(f"DROP INDEX {row['name']}")
    return [row["definition"] for row in found]


def people(database_url: str) -> list[str]:
    """The benchmark's people by email (``bench0@...`` first), as vault_data signs them up."""
    emails = [r[0] for r in query(database_url, "SELECT email FROM users")]
    return sorted(emails, key=lambda e: (len(e), e))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--team-skills", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2, help="processes building rows")
    parser.add_argument("--via-triggers", action="store_true", help="slow: row by row")
    args = parser.parse_args(argv)
    emails = people(args.database_url)
    if not emails:
        print("no users: prepare the database with vault_data.py", file=sys.stderr)
        return 2
    done = seed(
        args.database_url,
        emails,
        args.skills,
        team_skills=args.team_skills,
        seed_value=args.seed,
        processes=args.processes,
        via_triggers=args.via_triggers,
    )
    print(json.dumps({k: v for k, v in done.items() if k != "vaults"}))
    print(Counter(dict(done["vaults"])).most_common(3), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
