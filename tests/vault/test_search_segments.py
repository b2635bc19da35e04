"""On SQLite, a write of many files adds one segment to the FTS5 content index, not one per
file: FTS5 flushes its pending index at every statement of a transaction, so the files must
go in as one statement (``execute_many``). Row by row, a 20-file create made 20 one-page
segments, and merging them cost most of the create (docs/performance.md)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from better_skills.server.db import HEAVY_WRITE_BYTES
from tests.vault.support import add_person, created, services_of, skill_md, uploads

pytestmark = pytest.mark.anyio


def folder(files: int, tag: str, size: int = 200) -> dict[str, bytes]:
    found = {"SKILL.md": skill_md(f"seg-{tag}", f"Segments {tag}.")}
    for i in range(files - 1):
        found[f"references/part-{i:02d}.md"] = f"# {tag} {i}\n".encode() + b"words " * size
    return found


async def segments(client: httpx.AsyncClient) -> int:
    """The content index's segments (each owns its rows of ``search_body_idx``)."""
    async with services_of(client).db.engine.connect() as conn:
        return int(
            (await conn.execute(text("SELECT count(DISTINCT segid) FROM search_body_idx"))).scalar()
        )


async def test_a_write_of_many_files_is_one_index_segment(client: httpx.AsyncClient) -> None:
    if services_of(client).db.dialect != "sqlite":
        pytest.skip("FTS5 segments are SQLite's")
    async with services_of(client).db.engine.begin() as conn:
        # No merging, so that every flush stays a segment of its own and can be counted.
        for setting in ("'automerge', 0", "'crisismerge', 2000"):
            await conn.execute(
                text(f"INSERT INTO search_body (search_body, rank) VALUES ({setting})")  # noqa: S608
            )
    ada = await add_person(client)
    before = await segments(client)
    made = await created(client, ada, folder(20, "small"), slug="small")
    assert await segments(client) == before + 1  # the create, through the driver
    big = folder(4, "big", size=HEAVY_WRITE_BYTES // 12)
    await created(client, ada, big, slug="big")
    assert await segments(client) == before + 2  # a heavy create, through the engine
    more = {**folder(20, "small"), **{f"extra/{i}.md": b"more " * 50 for i in range(10)}}
    updated = await client.put(
        f"/api/v1/skills/{made['id']}", json={"files": uploads(more)}, headers=ada.auth
    )
    assert updated.status_code == 200, updated.text
    assert await segments(client) == before + 3  # ten files added by an update, at once
    found = await client.get("/api/v1/skills/search", params={"q": "more more"}, headers=ada.auth)
    assert [hit["id"] for hit in found.json()["items"]] == [made["id"]]
