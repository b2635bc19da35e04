"""Bulk-load a vault for the benchmarks: N skills of 3 files each, 10 users, one team vault.

    .venv/bin/python benchmarks/vault_seed.py DATABASE_URL --skills 100000

The database must already hold the schema and the users (``vault_bench.py`` signs them up
over HTTP, so that each has the personal vault and system membership sign-up gives). This
adds one team vault shared by every user, and the skills:

- ``--team-skills`` (500) in the team vault, and ``MANIFEST_SKILLS - team`` in the first
  user's personal vault, so that user syncs exactly 1,000 skills (plus the shipped default);
- the rest spread evenly over the other users' personal vaults.

Each skill has ``SKILL.md`` (frontmatter and a body of about 600 bytes), ``references/guide.md``
(about 1,500 bytes) and ``scripts/run.sh`` (about 200 bytes), words drawn from a fixed
vocabulary with a Zipf-like skew, so some words are in most skills and some in few. Two
planted words make the search scenarios' figures comparable between runs: :data:`COMMON`
is in the body of one skill in five, :data:`RARE` in one skill in 10,000 (at least one).

Bulk loading: COPY on PostgreSQL (asyncpg), ``executemany`` in one transaction on SQLite.
Rows go in through the tables' triggers, as any write does, so the search index is built
as the load goes. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from better_skills.skillfmt.hashing import content_hash, file_sha256
from better_skills.skillfmt.paths import file_kind

MANIFEST_SKILLS = 1000
COMMON = "deploy"
RARE = "zanzibar"
TWO_LETTERS = "wi"
BATCH = 5000

_SYLLABLES = [
    "ka", "lo", "mi", "wi", "ten", "ra", "vo", "sul", "pe", "dri", "no", "ha", "bel", "cor", "fi",
    "gan", "ju", "wex", "ty", "ost", "um", "lin", "sa", "tor", "ve", "pol", "ri", "den", "ya",
]  # fmt: skip


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if COMMON not in word and RARE not in word:
            words.add(word)
    return sorted(words)


class Text:
    """Zipf-skewed words from a fixed vocabulary."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = vocabulary(rng)
        weights = [1 / (rank + 1) for rank in range(len(self.words))]
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)

    def words_(self, n: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=n)

    def sentence(self, n: int) -> str:
        return " ".join(self.words_(n)).capitalize() + "."

    def paragraph(self, chars: int) -> str:
        out: list[str] = []
        size = 0
        while size < chars:
            s = self.sentence(self.rng.randint(6, 14))
            out.append(s)
            size += len(s) + 1
        return " ".join(out)


@dataclass
class Plan:
    """Which vault each skill goes to."""

    vaults: list[tuple[str, int]]  # (vault id, number of skills)


def plan(skills: int, team_vault: str, personal: list[str], team_skills: int) -> Plan:
    team = min(team_skills, skills)
    small = min(MANIFEST_SKILLS - team, skills - team)
    rest = skills - team - small
    others = personal[1:]
    parts = [(team_vault, team), (personal[0], small)]
    for i, vault in enumerate(others):
        parts.append((vault, rest // len(others) + (1 if i < rest % len(others) else 0)))
    return Plan([(v, n) for v, n in parts if n > 0])


SKILL_COLUMNS = (
    "id", "vault_id", "slug", "name", "description", "frontmatter", "content_hash", "version",
    "file_count", "size", "created_by", "created_at", "updated_at",
)  # fmt: skip
VAULT_COLUMNS = (
    "id", "type", "slug", "name", "color", "owner_user_id", "created_at", "updated_at",
)  # fmt: skip
MEMBER_COLUMNS = ("vault_id", "user_id", "role", "enabled", "created_at", "updated_at")
FILE_COLUMNS = (
    "id", "skill_id", "path", "kind", "size", "sha256", "content", "created_at", "updated_at",
)  # fmt: skip


def skill_batches(
    the_plan: Plan, seed: int, start_ms: int
) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """(skill rows, file rows) in batches of :data:`BATCH` skills."""
    rng = random.Random(seed)
    text = Text(rng)
    n = 0
    skills: list[tuple] = []
    files: list[tuple] = []
    total = sum(count for _, count in the_plan.vaults)
    rare_every = max(1, min(10_000, total))
    for vault_id, count in the_plan.vaults:
        for i in range(count):
            n += 1
            skill_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            words = text.words_(rng.randint(2, 3))
            name = " ".join(words).title()
            slug = f"{'-'.join(words)}-{i}"[:64]
            description = text.sentence(rng.randint(8, 20))
            body = text.paragraph(600)
            if n % 5 == 0:
                body += f" Then {COMMON} it."
            if n % rare_every == 1 % rare_every:  # the first is in the shared team vault
                body += f" Bring it to {RARE}."
            fm = {"name": slug, "description": description}
            skill_md = f"---\nname: {slug}\ndescription: {description}\n---\n# {name}\n\n{body}\n"
            folder = {
                "SKILL.md": skill_md.encode(),
                "references/guide.md": f"# Guide\n\n{text.paragraph(1500)}\n".encode(),
                "scripts/run.sh": f"#!/bin/sh\n# {text.sentence(10)}\necho {words[0]}\n".encode(),
            }
            at = start_ms + n
            shas = {path: file_sha256(data) for path, data in folder.items()}
            skills.append(
                (
                    skill_id,
                    vault_id,
                    slug,
                    name,
                    description,
                    json.dumps(fm),
                    content_hash(shas.items()),
                    1,
                    len(folder),
                    sum(map(len, folder.values())),
                    None,
                    at,
                    at,
                )
            )
            for path, data in folder.items():
                files.append(
                    (
                        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        skill_id,
                        path,
                        file_kind(path),
                        len(data),
                        shas[path],
                        data,
                        at,
                        at,
                    )
                )
            if len(skills) >= BATCH:
                yield skills, files
                skills, files = [], []
    if skills:
        yield skills, files


# -- the database -----------------------------------------------------------------------------


def _sqlite_path(database_url: str) -> str:
    return database_url.split(":///", 1)[1]


def _pg_url(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _query(backend: str, database_url: str, sql: str, *args: Any) -> list[tuple]:
    if backend == "sqlite":
        conn = sqlite3.connect(_sqlite_path(database_url), timeout=30)
        try:
            return conn.execute(sql.replace("$1", "?"), args).fetchall()
        finally:
            conn.close()

    async def run() -> list[tuple]:
        import asyncpg

        conn = await asyncpg.connect(_pg_url(database_url))
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


def personal_vaults(backend: str, database_url: str, user_ids: list[str]) -> list[str]:
    rows = dict(
        _query(
            backend,
            database_url,
            "SELECT owner_user_id, id FROM vaults WHERE type = 'personal'",
        )
    )
    return [rows[u] for u in user_ids]


def seed(
    backend: str,
    database_url: str,
    user_ids: list[str],
    skills: int,
    *,
    team_skills: int = 500,
    seed_value: int = 1,
) -> dict[str, Any]:
    """Load the team vault and the skills; returns what the benchmark needs to know."""
    started = time.monotonic()
    now = int(time.time() * 1000)
    personal = personal_vaults(backend, database_url, user_ids)
    team = str(uuid.uuid4())
    vault_row = (team, "team", "bench-team", "Bench Team", None, None, now, now)
    members = [
        (team, user, "owner" if i == 0 else "member", True, now, now)
        for i, user in enumerate(user_ids)
    ]
    the_plan = plan(skills, team, personal, team_skills)
    vault_cols = (
        "id",
        "type",
        "slug",
        "name",
        "color",
        "owner_user_id",
        "created_at",
        "updated_at",
    )
    member_cols = ("vault_id", "user_id", "role", "enabled", "created_at", "updated_at")
    batches = skill_batches(the_plan, seed_value, now - skills - 10)
    if backend == "sqlite":
        conn = sqlite3.connect(_sqlite_path(database_url), timeout=60, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_insert_sql("vaults", vault_cols), vault_row)
            conn.executemany(_insert_sql("vault_memberships", member_cols), members)
            for skill_rows, file_rows in batches:
                conn.executemany(_insert_sql("skills", SKILL_COLUMNS), skill_rows)
                conn.executemany(_insert_sql("skill_files", FILE_COLUMNS), file_rows)
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("ANALYZE")
        finally:
            conn.close()
    else:
        asyncio.run(_postgres(database_url, vault_row, vault_cols, members, member_cols, batches))
    return {
        "seconds": round(time.monotonic() - started, 1),
        "team_vault": team,
        "vaults": the_plan.vaults,
    }


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


async def _postgres(
    database_url: str,
    vault_row: tuple,
    vault_cols: tuple[str, ...],
    members: list[tuple],
    member_cols: tuple[str, ...],
    batches: Iterator[tuple[list[tuple], list[tuple]]],
) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_url(database_url))
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("vaults", records=[vault_row], columns=vault_cols)
            await conn.copy_records_to_table(
                "vault_memberships", records=members, columns=member_cols
            )
            for skill_rows, file_rows in batches:
                await conn.copy_records_to_table(
                    "skills", records=skill_rows, columns=SKILL_COLUMNS
                )
                await conn.copy_records_to_table(
                    "skill_files", records=file_rows, columns=FILE_COLUMNS
                )
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--team-skills", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    backend = "sqlite" if args.database_url.startswith("sqlite") else "postgres"
    users = [row[0] for row in _query(backend, args.database_url, "SELECT id FROM users")]
    if not users:
        print("no users: sign some up first (vault_bench.py does)", file=sys.stderr)
        return 2
    print(json.dumps(seed(backend, args.database_url, sorted(users), args.skills,
                          team_skills=args.team_skills, seed_value=args.seed)))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
