"""``skills.graphForSkill`` in the batched form the original CLI sends (original-system.md
§2.1): GraphOutput field by field, expansion in both directions, nothing outside the caller's
vaults."""

from __future__ import annotations

import pytest

from tests.trpc.support import data_of, error_of, query
from tests.vault.support import add_person, add_team_vault, created, skill_md

pytestmark = pytest.mark.anyio

NODE = {
    "id", "type", "label", "description", "slug", "parentSkillId", "kind", "contentSnippet",
    "updatedAt", "vault",
}  # fmt: skip
EDGE = {"id", "source", "target", "kind"}


async def test_graph_for_skill_shape_and_reach(client) -> None:
    ada = await add_person(client)
    bob = await add_person(client, "Bob")
    leaf = await created(client, ada, {"SKILL.md": skill_md("leaf", "The leaf.", "Leaf\n")})
    middle = await created(
        client,
        ada,
        {
            "SKILL.md": skill_md("middle", "Middle.", "See [[resource:new:references/r.md]]\n"),
            "references/r.md": f"Uses [[skill:{leaf['id']}]]\n".encode(),
        },
    )
    top = await created(
        client, ada, {"SKILL.md": skill_md("top", "Top.", f"Calls [[skill:{middle['id']}]]\n")}
    )
    alone = await created(client, ada, {"SKILL.md": skill_md("alone", "Alone.")})

    graph = data_of(await query(client, "skills.graphForSkill", {"skillId": leaf["id"]}, ada))
    assert set(graph) == {"nodes", "edges"}
    for node in graph["nodes"]:
        assert set(node) == NODE
    for edge in graph["edges"]:
        assert set(edge) == EDGE
    skills = {n["id"]: n for n in graph["nodes"] if n["type"] == "skill"}
    # Followed backwards from the leaf: middle mentions it (through its file), top mentions
    # middle; the unconnected skill is not in the component.
    assert set(skills) == {leaf["id"], middle["id"], top["id"]}
    assert alone["id"] not in skills
    node = skills[middle["id"]]
    assert node["label"] == "middle" and node["slug"] == "middle"
    assert node["description"] == "Middle." and node["parentSkillId"] is None
    assert node["contentSnippet"].startswith("---\nname: middle")
    assert node["vault"]["type"] == "personal" and node["updatedAt"].endswith("Z")
    resource = next(n for n in graph["nodes"] if n["type"] == "resource")
    assert resource["label"] == "references/r.md" and resource["parentSkillId"] == middle["id"]
    assert resource["kind"] == "reference" and resource["updatedAt"] is None
    assert resource["contentSnippet"] == f"Uses [[skill:{leaf['id']}]]\n"
    edges = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    assert (middle["id"], resource["id"], "parent") in edges
    assert (resource["id"], leaf["id"], "mention") in edges
    assert (middle["id"], resource["id"], "mention") in edges
    assert (top["id"], middle["id"], "mention") in edges
    parent = next(e for e in graph["edges"] if e["kind"] == "parent")
    assert parent["id"] == f"parent-{resource['id']}"

    # Another person, or an id that is no skill: an empty graph, not an error.
    empty = {"nodes": [], "edges": []}
    assert (
        data_of(await query(client, "skills.graphForSkill", {"skillId": top["id"]}, bob)) == empty
    )
    assert (
        data_of(await query(client, "skills.graphForSkill", {"skillId": "not-a-uuid"}, ada))
        == empty
    )
    missing = await query(client, "skills.graphForSkill", {}, ada)
    error_of(missing, 400, "BAD_REQUEST", "skills.graphForSkill")
    signed_out = await query(client, "skills.graphForSkill", {"skillId": top["id"]})
    error_of(signed_out, 401, "UNAUTHORIZED", "skills.graphForSkill")


async def test_graph_stays_inside_the_callers_vaults(client) -> None:
    ada = await add_person(client)
    bob = await add_person(client, "Bob")
    await add_team_vault(client, "acme", {ada.id: "owner", bob.id: "member"})
    shared = await created(client, ada, {"SKILL.md": skill_md("shared", "S.")}, vault="acme")
    user = await created(
        client,
        ada,
        {"SKILL.md": skill_md("user", "U.", f"[[skill:{shared['id']}]]\n")},
        vault="acme",
    )
    bob_view = data_of(await query(client, "skills.graphForSkill", {"skillId": shared["id"]}, bob))
    assert {n["id"] for n in bob_view["nodes"]} == {shared["id"], user["id"]}
    assert all(n["vault"]["type"] == "enterprise" for n in bob_view["nodes"])
