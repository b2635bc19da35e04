"""Searches of one or two characters past ``COUNT_CAP``: the whole and prefix name or slug
matches are looked up first, so the capped substring scan cannot miss them."""

from __future__ import annotations

import httpx
import pytest

from better_skills.server.queries import search as search_queries
from tests.vault.test_search import NOW, Vaults, names, person, search, world

pytestmark = pytest.mark.anyio

__all__ = ["world"]  # the fixture, imported for these tests


async def test_whole_and_prefix_matches_beyond_the_cap(
    world: tuple[httpx.AsyncClient, Vaults], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    for i in range(6):
        await vaults.skill(v, f"Tool {i}", "Written in go.")
    prefix = await vaults.skill(v, "Gopher", "Digs.")
    whole = await vaults.skill(v, "Go", "The toolchain.")
    by_slug = await vaults.skill(v, "Something", "Else.")
    await vaults.sql("UPDATE skills SET slug = 'gx' WHERE id = :i", i=by_slug)
    # Last in every scan order: the table's, and (vault, created_at, id).
    for n, skill in enumerate((prefix, whole, by_slug)):
        await vaults.sql("UPDATE skills SET created_at = :t WHERE id = :i", t=NOW + n + 1, i=skill)

    monkeypatch.setattr(search_queries, "COUNT_CAP", 3)
    result = await search(client, auth, "go")
    assert names(result)[:2] == ["Go", "Gopher"]
    assert result["items"][0]["score"] == 1.0
    assert (result["total"], result["total_exact"]) == (3, False)
    assert names(await search(client, auth, "GO"))[:2] == ["Go", "Gopher"]
    assert set(names(await search(client, auth, "g"))[:3]) == {"Go", "Gopher", "Something"}
    # A slug that is the query, its name unrelated.
    gx = (await search(client, auth, "gx"))["items"]
    assert [(i["name"], i["match"], i["score"]) for i in gx] == [("Something", "name", 1.0)]

    # At or under the cap nothing changes: every match, counted exactly.
    monkeypatch.setattr(search_queries, "COUNT_CAP", 1000)
    result = await search(client, auth, "go")
    assert names(result)[:2] == ["Go", "Gopher"] and len(result["items"]) == 8
    assert (result["total"], result["total_exact"]) == (8, True)


async def test_the_lookups_follow_a_rename_and_a_move(
    world: tuple[httpx.AsyncClient, Vaults], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, vaults = world
    ada, ada_auth = await person(client, "ada@example.com")
    bob, bob_auth = await person(client, "bob@example.com")
    mine = await vaults.personal(ada)
    await vaults.personal(bob)
    team = await vaults.team("team", ada)
    await vaults.join(team, bob)
    for i in range(6):
        await vaults.skill(team, f"Tool {i}", "Written in go.")
    skill = await vaults.skill(mine, "Go", "The toolchain.")
    await vaults.sql("UPDATE skills SET created_at = :t WHERE id = :i", t=NOW + 1, i=skill)
    monkeypatch.setattr(search_queries, "COUNT_CAP", 3)

    await vaults.sql("UPDATE skills SET name = 'In', slug = 'in' WHERE id = :i", i=skill)
    assert names(await search(client, ada_auth, "in"))[0] == "In"
    assert "In" not in names(await search(client, bob_auth, "in"))
    await vaults.sql("UPDATE skills SET vault_id = :v WHERE id = :i", v=team, i=skill)
    assert names(await search(client, bob_auth, "in"))[0] == "In"
    await vaults.sql("UPDATE skills SET vault_id = :v WHERE id = :i", v=mine, i=skill)
    assert "In" not in names(await search(client, bob_auth, "in"))
