"""``benchmarks/create_phases.py`` writes what a create writes: on a small migrated SQLite
database, its skills and files land, are found by search, and both ways of inserting the
files (one statement, one per row) give the same rows."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import create_phases

from tests.vault.support import add_person

pytestmark = pytest.mark.anyio


async def test_the_creates_land_and_are_searchable(
    database_url: str, app_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    if not database_url.startswith("sqlite:///"):
        pytest.skip("a SQLite script")
    async with app_client() as client:  # migrates; a person with a personal vault
        await add_person(client)
    path = database_url.removeprefix("sqlite:///")
    assert create_phases.main([path, "--creates", "5", "--files", "many"]) == 0
    assert create_phases.main([path, "--creates", "5", "--automerge", "8"]) == 0
    assert "commit" in capsys.readouterr().out
    with sqlite3.connect(path) as conn:
        (skills,) = conn.execute("SELECT count(*) FROM skills WHERE slug LIKE 'p-%'").fetchone()
        (files,) = conn.execute(
            "SELECT count(*) FROM skill_files f JOIN skills s ON s.id = f.skill_id"
            " WHERE s.slug LIKE 'p-%'"
        ).fetchone()
        (indexed,) = conn.execute(
            "SELECT count(*) FROM search_body WHERE search_body MATCH '\"Part 3\"'"
        ).fetchone()
        (merge,) = conn.execute("SELECT v FROM search_body_config WHERE k = 'automerge'").fetchone()
    assert (skills, files, indexed, merge) == (10, 200, 10, 8)
