"""The graph service on both backends: depth, direction, scope, the whole-vault graph."""

from __future__ import annotations

import pytest

from tests.vault.support import add_person, add_team_vault, created, services_of, skill_md

pytestmark = pytest.mark.anyio


async def test_depth_counts_steps_in_both_directions(client) -> None:
    ada = await add_person(client)
    chain = []
    for name in ("c", "b", "a"):  # a -> b -> c
        body = f"[[skill:{chain[-1]['id']}]]\n" if chain else "end\n"
        chain.append(await created(client, ada, {"SKILL.md": skill_md(name, name, body)}))
    c, b, a = (s["id"] for s in chain)
    graph = services_of(client).graph

    def ids(g) -> set[str]:
        return {n.id for n in g.skills()}

    assert ids(await graph.around(ada.id, a, 1)) == {a, b}
    assert ids(await graph.around(ada.id, a, 2)) == {a, b, c}
    assert ids(await graph.around(ada.id, c, 1)) == {c, b}  # followed backwards
    one = await graph.around(ada.id, a, 1)
    assert one.skill_edges() == [(a, b)]  # b -> c is outside: its end is not a node
    whole = await graph.vault_graph(ada.id, "personal")
    assert ids(whole) == {a, b, c}
    assert sorted(whole.skill_edges()) == sorted([(a, b), (b, c)])


async def test_the_graph_holds_only_the_callers_vaults(client) -> None:
    ada = await add_person(client)
    bob = await add_person(client, "Bob")
    await add_team_vault(client, "acme", {ada.id: "owner"})
    team = await created(client, ada, {"SKILL.md": skill_md("team", "T.")}, vault="acme")
    graph = services_of(client).graph
    assert (await graph.around(bob.id, team["id"])).nodes == []
    assert team["id"] not in {n.id for n in (await graph.vault_graph(bob.id)).nodes}
    assert team["id"] in {n.id for n in (await graph.vault_graph(ada.id)).nodes}
