"""A SQLite create's writes, statement by statement, on a copy of a vault: CPU per phase.

    cp /work/bench-data/vault-100k.db /tmp/copy.db      # never a kept vault itself
    .venv/bin/python benchmarks/create_phases.py /tmp/copy.db [--creates 600]
        [--files one|many] [--automerge 16 --crisismerge 64] [--pragma cache_size=-32768]

The statements of ``SkillWrites.create`` in plain ``sqlite3`` (the server's PRAGMAs, its
``BEGIN IMMEDIATE``): the slug and vault reads, the skill row (its search trigger), the 20
files of ``vault_bench.py`` (``--files many``: ``executemany``, one statement per file, as
before; ``one``: one statement, as ``execute_many`` sends them now), the revision bump and
audit row, and the commit. No HTTP and no Python above the driver: what SQLite itself spends
and how it grows with the database. Prints the mean CPU µs per phase (the first fifth of the
creates left out) and the wall p50/p99/max. ``--automerge`` and ``--crisismerge`` set FTS5's
merge settings on the copy first (migration 0010's knobs).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from writes_bench import files

_SKILL = (
    "INSERT INTO skills (id, vault_id, slug, version, created_by, created_at, name, description,"
    " frontmatter, content_hash, file_count, size, updated_at)"
    " VALUES (?, ?, ?, 1, ?, ?, ?, ?, '{}', ?, 20, 30000, ?)"
)
_FILES = (
    "INSERT INTO skill_files (id, skill_id, path, kind, size, sha256, content, created_at,"
    " updated_at) VALUES "
)
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
PHASES = ("reads", "skill", "files", "audit", "commit", "total")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a copy: this script writes to it")
    parser.add_argument("--creates", type=int, default=600)
    parser.add_argument("--files", choices=("one", "many"), default="one")
    parser.add_argument("--automerge", type=int)
    parser.add_argument("--crisismerge", type=int)
    parser.add_argument("--pragma", action="append", default=[])
    args = parser.parse_args(argv)
    conn = sqlite3.connect(args.database, isolation_level=None)
    base = ["busy_timeout=5000", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"]
    for pragma in base + args.pragma:
        conn.execute(f"PRAGMA {pragma}")
    for key in ("automerge", "crisismerge"):
        value = getattr(args, key)
        for table in ("search_meta", "search_body") if value is not None else ():
            conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES (?, ?)", (key, value))  # noqa: S608
    vault_id, owner = conn.execute(
        "SELECT id, owner_user_id FROM vaults WHERE type = 'personal' LIMIT 1"
    ).fetchone()
    spent: dict[str, list[float]] = {k: [] for k in PHASES}
    walls: list[float] = []
    tag = uuid.uuid4().hex[:8]
    for i in range(args.creates):
        skill_id, slug, now = str(uuid.uuid4()), f"p-{tag}-{i}", int(time.time() * 1000)
        rows = [
            (str(uuid.uuid4()), skill_id, f["path"], "markdown", len(f["content"]),
             hashlib.sha256(f["content"].encode()).hexdigest(), f["content"].encode(), now, now)
            for f in files(20, f"{tag}{i}")
        ]  # fmt: skip
        marks = [time.process_time()]
        wall = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT 1 FROM skills WHERE vault_id = ? AND slug = ?", (vault_id, slug))
        conn.execute("SELECT id, type, slug, revision FROM vaults WHERE id = ?", (vault_id,))
        marks.append(time.process_time())
        conn.execute(
            _SKILL, (skill_id, vault_id, slug, owner, now, f"P {slug}", "A skill.", "x" * 64, now)
        )
        marks.append(time.process_time())
        if args.files == "many":
            conn.executemany(_FILES + _ROW, rows)
        else:
            conn.execute(_FILES + ", ".join([_ROW] * len(rows)), [v for r in rows for v in r])
        marks.append(time.process_time())
        conn.execute("UPDATE vaults SET revision = revision + 1 WHERE id = ?", (vault_id,))
        conn.execute(
            "INSERT INTO audit_log (at, event, user_id, detail) VALUES (?, 'skill_create', ?, ?)",
            (now, owner, slug),
        )
        marks.append(time.process_time())
        conn.execute("COMMIT")
        marks.append(time.process_time())
        walls.append(time.perf_counter() - wall)
        for key, start, end in zip(PHASES, marks, marks[1:], strict=False):
            spent[key].append((end - start) * 1e6)
        spent["total"].append((marks[-1] - marks[0]) * 1e6)
    skip = args.creates // 5
    late = sorted(walls[skip:])
    print(
        f"{os.path.basename(args.database)} files={args.files} {' '.join(args.pragma)}: "
        + " ".join(f"{k} {statistics.mean(v[skip:]):,.0f}" for k, v in spent.items())
        + f" µs CPU; wall p50 {late[len(late) // 2] * 1e3:.1f} p99"
        f" {late[int(len(late) * 0.99)] * 1e3:.1f} max {late[-1] * 1e3:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
