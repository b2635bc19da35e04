"""The original CLI's journey at the wire level, writes, and the same skills across surfaces."""

from __future__ import annotations

import base64

import pytest

from tests.trpc.support import data_of, error_of, mutate, query
from tests.vault.support import add_person, add_team_vault, created, skill_md

pytestmark = pytest.mark.anyio


def create_input(slug: str, **extra) -> dict:
    """``skills.create`` input as the original CLI builds it from a local folder (§5.7)."""
    return {
        "slug": slug,
        "name": slug,
        "description": f"The {slug} skill.",
        "skillMarkdown": f"# {slug}\n\nRead [[resource:new:references/guide.md]].\n",
        "frontmatter": {"name": slug, "description": f"The {slug} skill.", "license": "MIT"},
        "metadata": {},
        "sourceUrl": None,
        "sourceIdentifier": None,
        "resources": [
            {"path": "references/guide.md", "kind": "reference", "content": "Guide v1\n"},
            {"path": "scripts/run.sh", "kind": "script", "content": "echo hi\n"},
        ],
        **extra,
    }


async def test_original_cli_journey(client) -> None:
    ada = await add_person(client)
    listed = data_of(await query(client, "skills.list", {"limit": 50}, ada))
    before = {i["id"] for i in listed["items"]}

    made = data_of(await mutate(client, "skills.create", create_input("journey"), ada))
    assert made["slug"] == "journey" and made["vault"]["isReadOnly"] is False
    assert made["frontmatter"]["license"] == "MIT"
    assert made["originalMarkdown"].startswith("# journey\n\nRead [[resource:")
    assert made["renderedMarkdown"] == "# journey\n\nRead references/guide.md.\n"
    ids = {r["path"]: r["id"] for r in made["resources"]}
    assert set(ids) == {"references/guide.md", "scripts/run.sh"}

    got = data_of(await query(client, "skills.getBySlug", {"slug": "journey"}, ada))
    assert got["id"] == made["id"] and got["resources"] == made["resources"]
    found = data_of(await query(client, "skills.search", {"query": "journey"}, ada))
    assert made["id"] in [i["id"] for i in found["items"]]

    changes = [
        {"id": ids["references/guide.md"], "path": "references/guide.md", "content": "Guide v2\n"},
        {"id": ids["scripts/run.sh"], "path": "scripts/run.sh", "content": "", "delete": True},
        {"path": "references/extra.md", "kind": "reference", "content": "Extra\n"},
    ]
    updated = data_of(
        await mutate(client, "skills.update", {"id": made["id"], "resources": changes}, ada)
    )
    by_path = {r["path"]: r for r in updated["resources"]}
    assert set(by_path) == {"references/guide.md", "references/extra.md"}
    assert by_path["references/guide.md"]["id"] == ids["references/guide.md"]
    assert by_path["references/guide.md"]["content"] == "Guide v2\n"
    assert updated["originalMarkdown"] == made["originalMarkdown"]  # untouched

    renamed = data_of(
        await mutate(
            client,
            "skills.update",
            {
                "id": made["id"],
                "resources": [
                    {"id": ids["references/guide.md"], "path": "references/manual.md",
                     "content": "Guide v3\n"}
                ],
            },
            ada,
        )
    )  # fmt: skip
    manual = [r for r in renamed["resources"] if r["path"] == "references/manual.md"]
    assert manual[0]["id"] == ids["references/guide.md"]  # a renamed resource keeps its id
    assert renamed["renderedMarkdown"] == "# journey\n\nRead references/manual.md.\n"

    user = data_of(
        await mutate(
            client,
            "skills.create",
            create_input("user", skillMarkdown=f"Uses [[skill:{made['id']}]]\n", resources=[]),
            ada,
        )
    )
    assert user["renderedMarkdown"] == "Uses journey\n"  # a readable skill by its name
    refs = data_of(await query(client, "skills.references", {"skillId": made["id"]}, ada))
    assert [r["sourceSkillId"] for r in refs["references"]] == [user["id"]]

    res = data_of(
        await query(
            client,
            "skills.getResourceByPath",
            {"skillSlug": "journey", "resourcePath": "references/extra.md"},
            ada,
        )
    )
    assert res["content"] == "Extra\n" and res["skillSlug"] == "journey"
    assert res["skillId"] == made["id"] and res["skillName"] == "journey"
    res2 = data_of(
        await query(
            client,
            "skills.getResourceBySkillIdAndPath",
            {"skillId": made["id"], "resourcePath": "references/manual.md"},
            ada,
        )
    )
    assert res2["content"] == "Guide v3\n"
    nope = await query(
        client,
        "skills.getResourceBySkillIdAndPath",
        {"skillId": made["id"], "resourcePath": "nope.md"},
        ada,
    )
    assert error_of(nope, 404, "NOT_FOUND", "skills.getResourceBySkillIdAndPath") == (
        "Resource not found"
    )

    first = data_of(await query(client, "skills.syncPage", {"limit": 1}, ada))
    second = data_of(
        await query(client, "skills.syncPage", {"limit": 1, "cursor": first["nextCursor"]}, ada)
    )
    assert first["items"][0]["id"] != second["items"][0]["id"]

    for skill_id in (user["id"], made["id"]):
        assert data_of(await mutate(client, "skills.delete", {"id": skill_id}, ada)) == {
            "success": True
        }
    listed = data_of(await query(client, "skills.list", {"limit": 50}, ada))
    assert {i["id"] for i in listed["items"]} == before


async def test_duplicate_slug_is_conflict_and_bad_skill_is_bad_request(client) -> None:
    ada = await add_person(client)
    data_of(await mutate(client, "skills.create", create_input("dup"), ada))
    again = await mutate(client, "skills.create", create_input("dup"), ada)
    assert "dup" in error_of(again, 409, "CONFLICT", "skills.create")
    broken = create_input("broken", skillMarkdown="See [[resource:new:references/none.md]]\n")
    bad = await mutate(client, "skills.create", broken, ada)
    assert "references/none.md" in error_of(bad, 400, "BAD_REQUEST", "skills.create")
    missing = await mutate(client, "skills.create", {"slug": "x"}, ada)
    assert error_of(missing, 400, "BAD_REQUEST", "skills.create").startswith("Invalid input:")


async def test_update_from_original_cli_leaves_binary_files_alone(client) -> None:
    ada = await add_person(client)
    blob = bytes(range(256)) * 3
    made = await created(
        client,
        ada,
        {"SKILL.md": skill_md("bin"), "assets/logo.png": blob, "references/r.md": b"r\n"},
    )
    skill = data_of(await query(client, "skills.getById", {"id": made["id"]}, ada))
    assert [r["path"] for r in skill["resources"]] == ["references/r.md"]
    rid = skill["resources"][0]["id"]
    change = {"id": skill["id"], "skillMarkdown": "# New body\n",
              "resources": [{"id": rid, "path": "references/r.md", "content": "r2\n"}]}  # fmt: skip
    data_of(await mutate(client, "skills.update", change, ada))
    raw = await client.get(f"/api/v1/skills/{made['id']}/files/assets/logo.png", headers=ada.auth)
    assert raw.status_code == 200 and raw.content == blob


async def test_cross_surface(client) -> None:
    ada = await add_person(client)
    via_trpc = data_of(await mutate(client, "skills.create", create_input("both-ways"), ada))
    v1 = await client.get(f"/api/v1/skills/{via_trpc['id']}?content=1", headers=ada.auth)
    assert v1.status_code == 200
    files = {f["path"]: f for f in v1.json()["files"]}
    assert set(files) == {"SKILL.md", "references/guide.md", "scripts/run.sh"}
    guide = files["references/guide.md"]
    text = guide.get("content") or base64.b64decode(guide["content_base64"]).decode()
    assert text == "Guide v1\n"
    assert guide["id"] == {r["path"]: r["id"] for r in via_trpc["resources"]}["references/guide.md"]

    via_v1 = await created(
        client, ada, {"SKILL.md": skill_md("from-v1", body="Body\n"), "references/x.md": b"x\n"}
    )
    seen = data_of(await query(client, "skills.getById", {"id": via_v1["id"]}, ada))
    assert seen["slug"] == "from-v1" and seen["originalMarkdown"] == "Body\n"
    assert [(r["path"], r["content"]) for r in seen["resources"]] == [("references/x.md", "x\n")]


async def test_read_only_member_is_forbidden_and_sees_is_read_only(client) -> None:
    ada = await add_person(client)
    bob = await add_person(client, "Bob")
    team = await add_team_vault(client, "acme", {ada.id: "owner", bob.id: "member"})
    made = data_of(
        await mutate(client, "skills.create", create_input("team-skill", vaultId=team), ada)
    )
    assert made["vault"]["type"] == "enterprise"
    seen = data_of(await query(client, "skills.getById", {"id": made["id"]}, bob))
    assert seen["vault"]["isReadOnly"] is True  # role-aware: a member may not write
    listed = data_of(await query(client, "skills.list", {}, ada))
    assert [i["vault"]["isReadOnly"] for i in listed["items"] if i["id"] == made["id"]] == [True]
    change = {"id": made["id"], "skillMarkdown": "# mine now\n"}
    refused = await mutate(client, "skills.update", change, bob)
    error_of(refused, 403, "FORBIDDEN", "skills.update")
    refused = await mutate(client, "skills.create", create_input("b", vaultId=team), bob)
    error_of(refused, 403, "FORBIDDEN", "skills.create")
    refused = await mutate(client, "skills.delete", {"id": made["id"]}, bob)
    error_of(refused, 403, "FORBIDDEN", "skills.delete")
