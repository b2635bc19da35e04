"""The embedded SQLite database holds emails, password hashes and digests: only its owner
may read it (issue 16 item 12; it was 0644 in a 0700 folder)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.server.flow import sign_up

pytestmark = pytest.mark.anyio


def modes(path: Path) -> dict[str, int]:
    """The permission bits of the database file and its companions (WAL, shared memory)."""
    return {
        p.name: stat.S_IMODE(p.stat().st_mode)
        for p in path.parent.iterdir()
        if p.name.startswith(path.name)
    }


@pytest.mark.backends("sqlite")
@pytest.mark.empty_database  # the server, not a copy of a template, makes the file
async def test_the_sqlite_files_are_created_0600(app_client, database_url: str) -> None:
    path = Path(database_url.split(":///", 1)[1])
    assert modes(path) == {}
    old_umask = os.umask(0o022)  # the usual umask, under which SQLite makes 0644 files
    try:
        async with app_client() as client:
            await sign_up(client)
            found = modes(path)
    finally:
        os.umask(old_umask)
    assert path.name in found and len(found) >= 2, found  # the database and its WAL
    assert set(found.values()) == {0o600}, found
