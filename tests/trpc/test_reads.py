"""The read procedures and vault switches, in the batched form the original CLI sends."""

from __future__ import annotations

import re

import pytest

from tests.trpc.support import data_of, error_of, mutate, query
from tests.vault.support import add_person, add_team_vault, created, skill_md

pytestmark = pytest.mark.anyio

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
VAULT_META = {"id", "slug", "name", "type", "color", "isReadOnly", "isEnabled"}
LIST_ITEM = {
    "id", "ownerUserId", "slug", "name", "description", "frontmatter", "metadata", "isDefault",
    "sourceUrl", "sourceIdentifier", "vault", "createdAt", "updatedAt",
}  # fmt: skip
SKILL_OUTPUT = LIST_ITEM | {"originalMarkdown", "renderedMarkdown", "resources"}
RESOURCE = {
    "id", "skillId", "path", "kind", "content", "metadata", "createdAt", "updatedAt",
    "renderedContent",
}  # fmt: skip


async def test_vaults_list_mine_and_set_enabled(client) -> None:
    ada = await add_person(client)
    team = await add_team_vault(client, "acme", {ada.id: "member"})
    mine = data_of(await query(client, "vaults.listMine", None, ada))
    by_type = {m["vault"]["type"]: m for m in mine}
    assert set(by_type) == {"personal", "enterprise", "system_default"}
    item = by_type["enterprise"]
    assert set(item) == {
        "membershipId", "vaultId", "role", "isEnabled", "canRead", "canWrite", "canAdmin",
        "isReadOnly", "membershipCreatedAt", "vault",
    }  # fmt: skip
    assert item["vaultId"] == team and item["vault"]["slug"] == "acme"
    assert set(item["vault"]) == {"id", "slug", "name", "type", "color", "isSystemManaged"}
    assert by_type["system_default"]["vault"]["isSystemManaged"] is True
    assert by_type["personal"]["canWrite"] is True and by_type["personal"]["role"] == "owner"

    done = data_of(
        await mutate(client, "vaults.setEnabled", {"vaultId": team, "isEnabled": False}, ada)
    )
    assert done == {"success": True, "vaultId": team, "isEnabled": False}
    mine = data_of(await query(client, "vaults.listMine", None, ada))
    assert [m["isEnabled"] for m in mine if m["vaultId"] == team] == [False]
    missing = await mutate(
        client,
        "vaults.setEnabled",
        {"vaultId": "00000000-0000-4000-8000-000000000000", "isEnabled": True},
        ada,
    )
    message = error_of(missing, 404, "NOT_FOUND", "vaults.setEnabled")
    assert message == "Vault membership not found"


async def test_list_get_and_shapes(client) -> None:
    ada = await add_person(client)
    body = "# Alpha\nSee [[resource:new:references/a.md]]\n"
    files = {
        "SKILL.md": skill_md("alpha", "First skill.", body),
        "references/a.md": b"ref text\n",
        "assets/blob.bin": bytes(range(256)),
    }
    made = await created(client, ada, files)
    page = data_of(await query(client, "skills.list", {"limit": 20}, ada))
    assert page["nextCursor"] is None
    mine = [i for i in page["items"] if i["id"] == made["id"]]
    assert len(mine) == 1
    item = mine[0]
    assert set(item) == LIST_ITEM
    assert set(item["vault"]) == VAULT_META
    assert item["vault"]["type"] == "personal" and item["vault"]["isReadOnly"] is False
    assert item["slug"] == "alpha" and item["frontmatter"]["name"] == "alpha"
    assert ISO.match(item["createdAt"]) and ISO.match(item["updatedAt"])
    same = data_of(await query(client, "skills.listByOwner", {"search": "alph"}, ada))
    assert [i["id"] for i in same["items"]] == [made["id"]]

    skill = data_of(await query(client, "skills.getById", {"id": made["id"]}, ada))
    assert set(skill) == SKILL_OUTPUT
    assert skill["originalMarkdown"].startswith("# Alpha\nSee [[resource:")
    assert skill["renderedMarkdown"] == "# Alpha\nSee references/a.md\n"
    assert [r["path"] for r in skill["resources"]] == ["references/a.md"]  # binary left out
    resource = skill["resources"][0]
    assert set(resource) == RESOURCE
    assert resource["content"] == "ref text\n" and resource["skillId"] == made["id"]
    bare = data_of(
        await query(
            client, "skills.getById", {"id": made["id"], "includeResourceContent": False}, ada
        )
    )
    assert bare["resources"][0]["content"] == "" == bare["resources"][0]["renderedContent"]
    by_slug = data_of(await query(client, "skills.getBySlug", {"slug": " ALPHA "}, ada))
    assert by_slug["id"] == made["id"]
    missing = await query(client, "skills.getById", {"id": "nope"}, ada)
    assert error_of(missing, 404, "NOT_FOUND", "skills.getById") == "Skill not found"


async def test_get_by_slug_ambiguous_is_conflict(client) -> None:
    ada = await add_person(client)
    await add_team_vault(client, "acme", {ada.id: "owner"})
    await created(client, ada, {"SKILL.md": skill_md("twin")})
    await created(client, ada, {"SKILL.md": skill_md("twin")}, vault="acme")
    response = await query(client, "skills.getBySlug", {"slug": "twin"}, ada)
    message = error_of(response, 409, "CONFLICT", "skills.getBySlug")
    lines = message.split("\n")
    assert lines[0] == 'ambiguous skill slug "twin"; provide <vault-slug>/<skill-slug>'
    assert lines[1] == "matches:"
    assert lines[2] == "- acme/twin (Acme)"
    assert lines[3].startswith("- personal") or lines[3].startswith("- ")
    assert len(lines) == 4
    picked = data_of(
        await query(client, "skills.getBySlug", {"slug": "twin", "vaultSlug": "acme"}, ada)
    )
    assert picked["vault"]["type"] == "enterprise" and picked["vault"]["isReadOnly"] is False


async def test_sync_page_across_two_pages(client) -> None:
    ada = await add_person(client)
    ids = set()
    for n in range(3):
        files = {"SKILL.md": skill_md(f"s{n}"), "references/z.md": b"z", "references/a.md": b"a"}
        ids.add((await created(client, ada, files))["id"])
    first = data_of(await query(client, "skills.syncPage", {"limit": 2}, ada))
    assert len(first["items"]) == 2 and first["nextCursor"]
    item = first["items"][0]
    assert set(item) == {
        "id", "slug", "name", "description", "updatedAt", "originalMarkdown",
        "renderedMarkdown", "frontmatter", "resources", "vault", "sourceUrl", "sourceIdentifier",
    }  # fmt: skip
    if item["id"] in ids:
        assert [r["path"] for r in item["resources"]] == ["references/a.md", "references/z.md"]
        assert set(item["resources"][0]) == {"path", "renderedContent"}
    # The original's cursor: the id of the page's last skill (original-system.md §2).
    assert first["nextCursor"] == first["items"][-1]["id"]
    seen = [i["id"] for i in first["items"]]
    cursor = first["nextCursor"]
    while cursor:
        page = data_of(await query(client, "skills.syncPage", {"limit": 2, "cursor": cursor}, ada))
        seen += [i["id"] for i in page["items"]]
        assert page["nextCursor"] in (None, page["items"][-1]["id"])
        cursor = page["nextCursor"]
    assert ids <= set(seen) and len(seen) == len(set(seen))
    listed = data_of(await query(client, "skills.listByOwner", {"limit": 1}, ada))
    assert listed["nextCursor"] == listed["items"][0]["id"] == seen[0]
    after = data_of(await query(client, "skills.listByOwner", {"limit": 1, "cursor": seen[0]}, ada))
    assert after["items"][0]["id"] == seen[1]
    bad = await query(client, "skills.syncPage", {"cursor": "garbage"}, ada)
    assert error_of(bad, 400, "BAD_REQUEST", "skills.syncPage") == "Invalid cursor"
    # A skill id the caller cannot read (or that does not exist) is no cursor either.
    bob = await add_person(client, "Bob")
    bobs = await created(client, bob, {"SKILL.md": skill_md("bobs")})
    for foreign in (bobs["id"], "00000000-0000-4000-8000-000000000000"):
        bad = await query(client, "skills.syncPage", {"cursor": foreign}, ada)
        assert error_of(bad, 400, "BAD_REQUEST", "skills.syncPage") == "Invalid cursor"


async def test_sync_page_reads_a_fixed_number_of_statements_whatever_its_size(client) -> None:
    """syncPage read each skill, and each skill it mentions, on its own (2 + 2 x limit
    statements); it reads the page in a fixed number now."""
    from sqlalchemy import event

    from tests.vault.support import services_of

    ada = await add_person(client)
    first = await created(client, ada, {"SKILL.md": skill_md("target")})
    sources = {f"s{n}" for n in range(6)}
    for slug in sorted(sources):
        body = f"Use [[skill:{first['id']}]].\n".encode()
        await created(client, ada, {"SKILL.md": skill_md(slug) + body})
    engine = services_of(client).db.engine.sync_engine

    async def statements_of(limit: int) -> int:
        statements: list[str] = []

        def remember(_conn, _cursor, sql, *_args) -> None:
            statements.append(sql)

        event.listen(engine, "before_cursor_execute", remember)
        try:
            page = data_of(await query(client, "skills.syncPage", {"limit": limit}, ada))
        finally:
            event.remove(engine, "before_cursor_execute", remember)
        assert len(page["items"]) == limit
        # The page is in id order (random ids): which skills it holds varies, but every one
        # that mentions the target renders the mention, and the larger page holds some.
        mentioning = [i for i in page["items"] if i["slug"] in sources]
        assert all("target" in i["renderedMarkdown"] for i in mentioning)
        assert mentioning or limit < len(sources)
        return len(statements)

    # The engine also runs the app's background work (the sweeper), which can land in one
    # window: the fewest of three runs is the request's own count. Pages of 5 and 7 of the 7
    # skills made here (and the default skill) always hold skills with mentions; a page without any
    # reads fewer statements, which is not what this test is about.
    counts = [min([await statements_of(limit) for _ in range(3)]) for limit in (5, 7)]
    assert counts[0] == counts[1], counts


async def test_search_references_delete(client) -> None:
    ada = await add_person(client)
    target = await created(client, ada, {"SKILL.md": skill_md("zebra-finder", "Finds zebras.")})
    body = f"Use [[skill:{target['id']}]]\n"
    source = await created(client, ada, {"SKILL.md": skill_md("caller", "Calls.", body)})
    found = data_of(await query(client, "skills.search", {"query": "zebra"}, ada))
    assert found["total"] >= 1
    hit = found["items"][0]
    assert set(hit) == {
        "id", "slug", "name", "description", "vault", "matchType", "score", "snippet",
        "updatedAt",
    }  # fmt: skip
    assert hit["id"] == target["id"] and hit["matchType"] == "title"
    empty = await query(client, "skills.search", {"query": ""}, ada)
    error_of(empty, 400, "BAD_REQUEST", "skills.search")

    refs = data_of(await query(client, "skills.references", {"skillId": target["id"]}, ada))
    assert len(refs["references"]) == 1
    ref = refs["references"][0]
    assert set(ref) == {
        "linkId", "sourceSkillId", "sourceSkillName", "sourceSkillSlug", "sourceResourcePath",
        "kind",
    }  # fmt: skip
    assert ref["sourceSkillId"] == source["id"] and ref["sourceResourcePath"] is None

    bob = await add_person(client, "Bob")
    hidden = await mutate(client, "skills.delete", {"id": target["id"]}, bob)
    assert error_of(hidden, 404, "NOT_FOUND", "skills.delete") == "Skill not found"
    gone = data_of(await mutate(client, "skills.delete", {"id": target["id"]}, ada))
    assert gone == {"success": True}
    again = await query(client, "skills.getById", {"id": target["id"]}, ada)
    error_of(again, 404, "NOT_FOUND", "skills.getById")
