"""GET /api/v1/skills over several vaults: keyset pages merged across vaults, and the plan."""

from __future__ import annotations

from typing import Any

import pytest

from better_skills.server.queries import skills as skill_queries
from tests.vault.support import add_person, add_team_vault, created, services_of, skill_md

pytestmark = pytest.mark.anyio


async def _all_pages(client: Any, who: Any, query: str, limit: int) -> list[str]:
    seen, cursor = [], None
    while True:
        url = f"/api/v1/skills?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(url, headers=who.auth)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_pages_merge_the_vaults_newest_first_with_ties(client) -> None:
    ada, bob = await add_person(client, "Ada"), await add_person(client, "Bob")
    await add_team_vault(client, "crew", {ada.id: "owner", bob.id: "owner"})
    await add_team_vault(client, "bobs", {bob.id: "owner"})  # not Ada's
    clock = services_of(client).clock
    made: list[tuple[int, str, str]] = []  # (created_at order, id, vault)
    for index in range(9):
        if index % 3 == 0:
            clock.advance(1)  # three skills share each created_at: ties broken by id
        vault = ("personal", "crew", "bobs")[index % 3]
        who = bob if vault == "bobs" else ada
        skill = await created(client, who, {"SKILL.md": skill_md(f"s-{index}")}, vault=vault)
        made.append((index // 3, skill["id"], vault))
    mine = [(t, i) for t, i, v in made if v != "bobs"]
    expected = [i for _, i in sorted(mine, reverse=True)]
    everything = await _all_pages(client, ada, "", 100)
    system = [i for i in everything if i not in expected]
    assert len(system) == 1  # the shipped default skill, in the system vault
    for limit in (1, 2, 3, 5):
        pages = await _all_pages(client, ada, "", limit)
        assert [i for i in pages if i in expected] == expected, limit
        assert len(pages) == len(set(pages)) == len(expected) + 1
    crew = await _all_pages(client, ada, "&vault=crew", 1)
    assert crew == [i for t, i, v in sorted(made, reverse=True) if v == "crew"]
    odd = await _all_pages(client, ada, "&q=s-1", 1)
    assert odd == [i for t, i, v in made if v != "bobs" and i in odd] and len(odd) == 1


@pytest.mark.backends("sqlite")
async def test_the_list_walks_each_vaults_index_not_everyones_skills(client) -> None:
    """Without ANALYZE statistics SQLite would read ix_skills_created_at (all skills, newest
    first) for a ``vault_id IN (...)`` query; each vault's range must be read instead."""
    ada = await add_person(client)
    await add_team_vault(client, "crew", {ada.id: "owner"})
    db = services_of(client).db
    vault_count = len(
        await db.direct.fetch_all(skill_queries.MEMBER_VAULT_IDS, {"user_id": ada.id})
    )
    assert vault_count >= 3  # personal, system, crew
    async with db.engine.connect() as conn:
        for with_after in (False, True):
            for with_q in (False, True):
                statement = skill_queries.list_statement(vault_count, with_q, with_after)
                compiled = db.direct.compiled(statement)
                params = {f"v{i}": "x" for i in range(vault_count)}
                params |= {"limit": 21, "pattern": "%a%", "after_created": 1, "after_id": "z"}
                plan = (
                    await conn.exec_driver_sql(
                        "EXPLAIN QUERY PLAN " + compiled.sql, tuple(compiled.args(params))
                    )
                ).all()
                details = " | ".join(row[-1] for row in plan)
                assert "ix_skills_created_at" not in details, details
                assert details.count("ix_skills_vault_id_created_at") >= 2, details
