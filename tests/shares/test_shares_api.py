"""The share endpoints on both backends: who may create, read, import and revoke a share,
what the snapshot holds (§8.1) and how an import remaps it (§8.2)."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import httpx
import pytest

from better_skills.protocol.shares import share_install_key
from better_skills.server.dependencies import current_principal
from better_skills.server.principal import VAULT_READ, Principal
from tests.vault.support import (
    Person,
    add_person,
    add_team_vault,
    assert_error,
    created,
    skill_md,
    uploads,
)

pytestmark = pytest.mark.anyio


async def share(client: httpx.AsyncClient, who: Person, skill_id: str) -> dict[str, Any]:
    response = await client.post(f"/api/v1/skills/{skill_id}/shares", headers=who.auth)
    assert response.status_code == 201, response.text
    return response.json()


async def linked_pair(client: httpx.AsyncClient, who: Person, **fields: Any) -> tuple[dict, dict]:
    """``helper`` and ``main``, whose SKILL.md mentions helper and a file of helper."""
    helper = await created(
        client,
        who,
        {
            "SKILL.md": skill_md("helper", "Helps.", "# Helper\n"),
            "references/notes.md": b"notes\n",
            "assets/logo.bin": b"\x00\x01\x02\xff",
        },
        **fields,
    )
    full = await client.get(f"/api/v1/skills/{helper['id']}", headers=who.auth)
    notes = next(f for f in full.json()["files"] if f["path"] == "references/notes.md")
    main = await created(
        client,
        who,
        {
            "SKILL.md": skill_md(
                "main",
                "The main skill.",
                f"# Main\nUse [[skill:{helper['id']}]] and [[resource:{notes['id']}]].\n",
            )
        },
        **fields,
    )
    return main, helper


async def test_create_list_read_and_bundle(client) -> None:
    ada, bob = await add_person(client, "Ada"), await add_person(client, "Bob")
    main, helper = await linked_pair(client, ada)
    made = await share(client, ada, main["id"])
    assert re.fullmatch(r"http://[^/]+/share/[0-9a-f-]{36}", made["url"])
    assert made["url"].endswith(made["id"])
    assert [s["slug"] for s in made["skills"]] == ["main", "helper"]  # root first
    assert made["root_skill_id"] == main["id"]
    assert {f["path"] for f in made["skills"][1]["files"]} == {
        "SKILL.md",
        "references/notes.md",
        "assets/logo.bin",
    }

    # Listed for its creator only.
    mine = (await client.get("/api/v1/shares", headers=ada.auth)).json()["items"]
    assert [(s["id"], s["skill_id"], s["skill_count"]) for s in mine] == [
        (made["id"], main["id"], 2)
    ]
    assert (await client.get("/api/v1/shares", headers=bob.auth)).json() == {"items": []}
    assert_error(await client.get("/api/v1/shares"), 401, "unauthorized")

    # Public: no credentials needed.
    public = await client.get(f"/api/v1/shares/{made['id']}")
    assert public.status_code == 200
    assert public.json() == made
    assert "created_by" not in public.json()

    bundle = await client.get(f"/api/v1/shares/{made['id']}/bundle")
    assert bundle.status_code == 200
    body = bundle.json()
    assert body["share_id"] == made["id"] and body["root_skill_id"] == main["id"]
    items = {i["slug"]: i for i in body["items"]}
    assert set(items) == {"main", "helper"}
    main_md = next(f for f in items["main"]["files"] if f["path"] == "SKILL.md")["content"]
    helper_key = share_install_key(made["id"], "helper")
    assert f"[helper](../{helper_key}/SKILL.md)" in main_md
    assert f"[helper: references/notes.md](../{helper_key}/references/notes.md)" in main_md
    logo = next(f for f in items["helper"]["files"] if f["path"] == "assets/logo.bin")
    assert base64.b64decode(logo["content_base64"]) == b"\x00\x01\x02\xff"
    assert items["helper"]["content_hash"] == helper["content_hash"]


async def test_the_snapshot_follows_outgoing_mentions_only(client) -> None:
    ada = await add_person(client)
    _main, helper = await linked_pair(client, ada)
    made = await share(client, ada, helper["id"])
    assert [s["slug"] for s in made["skills"]] == ["helper"]


async def test_the_snapshot_is_frozen(client) -> None:
    ada = await add_person(client)
    _main, helper = await linked_pair(client, ada)
    made = await share(client, ada, helper["id"])
    response = await client.put(
        f"/api/v1/skills/{helper['id']}",
        json={"files": uploads({"SKILL.md": skill_md("helper", "Changed.", "# New body\n")})},
        headers=ada.auth,
    )
    assert response.status_code == 200, response.text
    bundle = (await client.get(f"/api/v1/shares/{made['id']}/bundle")).json()
    files = {f["path"]: f for f in bundle["items"][0]["files"]}
    assert "# Helper" in files["SKILL.md"]["content"] and "references/notes.md" in files
    assert (await client.get(f"/api/v1/shares/{made['id']}")).json()["description"] == "Helps."

    # Deleting the source leaves the snapshot readable; the listing no longer names it.
    assert (
        await client.delete(f"/api/v1/skills/{helper['id']}", headers=ada.auth)
    ).status_code == 204
    assert (await client.get(f"/api/v1/shares/{made['id']}")).status_code == 200
    mine = (await client.get("/api/v1/shares", headers=ada.auth)).json()["items"]
    assert mine[0]["skill_id"] is None


async def test_who_may_share(client) -> None:
    ada, bob = await add_person(client, "Ada"), await add_person(client, "Bob")
    mine = await created(client, ada)
    # A skill the caller cannot read does not exist for them.
    assert_error(
        await client.post(f"/api/v1/skills/{mine['id']}/shares", headers=bob.auth),
        404,
        "not_found",
    )
    for bad in ("nope", str(uuid.uuid4()), "%2e%2e", "x" * 300):
        assert_error(
            await client.post(f"/api/v1/skills/{bad}/shares", headers=ada.auth), 404, "not_found"
        )
    assert_error(await client.post(f"/api/v1/skills/{mine['id']}/shares"), 401, "unauthorized")


@pytest.mark.parametrize(("role", "status"), [("owner", 201), ("admin", 201), ("member", 403)])
async def test_a_team_skill_needs_the_owner_or_an_admin(client, role: str, status: int) -> None:
    owner, caller, stranger = [await add_person(client, n) for n in ("Own", "Cal", "Str")]
    members = {caller.id: role} if role == "owner" else {owner.id: "owner", caller.id: role}
    await add_team_vault(client, "acme", members)
    writer = caller if role in ("owner", "admin") else owner
    skill = await created(client, writer, vault="acme")
    response = await client.post(f"/api/v1/skills/{skill['id']}/shares", headers=caller.auth)
    if status == 403:
        body = assert_error(response, 403, "forbidden")
        assert "owner or an admin" in body["error_description"]
    else:
        assert response.status_code == 201, response.text
    assert_error(
        await client.post(f"/api/v1/skills/{skill['id']}/shares", headers=stranger.auth),
        404,
        "not_found",
    )


async def test_the_system_skills_can_be_shared_by_any_reader(client) -> None:
    ada = await add_person(client)
    items = (await client.get("/api/v1/skills?vault=system-default", headers=ada.auth)).json()
    made = await share(client, ada, items["items"][0]["id"])
    assert made["skills"][0]["id"] == items["items"][0]["id"]


async def test_revoke(client) -> None:
    ada, bob = await add_person(client, "Ada"), await add_person(client, "Bob")
    made = await share(client, ada, (await created(client, ada))["id"])
    # Someone else's share: 404, and it stays.
    assert_error(
        await client.delete(f"/api/v1/shares/{made['id']}", headers=bob.auth), 404, "not_found"
    )
    assert (await client.get(f"/api/v1/shares/{made['id']}")).status_code == 200
    assert_error(await client.delete(f"/api/v1/shares/{made['id']}"), 401, "unauthorized")

    response = await client.delete(f"/api/v1/shares/{made['id']}", headers=ada.auth)
    assert response.status_code == 204 and response.content == b""
    for path in (f"/api/v1/shares/{made['id']}", f"/api/v1/shares/{made['id']}/bundle"):
        assert_error(await client.get(path), 404, "not_found")
    assert_error(
        await client.post(f"/api/v1/shares/{made['id']}/import", headers=bob.auth),
        404,
        "not_found",
    )
    assert_error(
        await client.delete(f"/api/v1/shares/{made['id']}", headers=ada.auth), 404, "not_found"
    )
    assert (await client.get("/api/v1/shares", headers=ada.auth)).json() == {"items": []}


async def test_unknown_and_malformed_share_ids_are_404(client) -> None:
    ada = await add_person(client)
    for bad in (str(uuid.uuid4()), "abc", "%00", "x" * 500, "%E2%80%AE"):
        for path in (f"/api/v1/shares/{bad}", f"/api/v1/shares/{bad}/bundle"):
            assert_error(await client.get(path), 404, "not_found")
        assert_error(
            await client.post(f"/api/v1/shares/{bad}/import", headers=ada.auth), 404, "not_found"
        )
        assert_error(
            await client.delete(f"/api/v1/shares/{bad}", headers=ada.auth), 404, "not_found"
        )


async def test_import_remaps_mentions_and_deduplicates_slugs(client) -> None:
    ada, bob = await add_person(client, "Ada"), await add_person(client, "Bob")
    main, helper = await linked_pair(client, ada)
    made = await share(client, ada, main["id"])
    # Bob already has a "helper".
    await created(client, bob, {"SKILL.md": skill_md("helper", "Bob's own.")})

    response = await client.post(f"/api/v1/shares/{made['id']}/import", headers=bob.auth)
    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["imported_skills"], result["imported_files"]) == (2, 4)
    assert result["imported_links"] == 2
    slugs = {s["name"]: s for s in result["skills"]}
    assert slugs["main"]["slug"] == "main" and slugs["helper"]["slug"] == "helper-copy"
    new_main, new_helper = slugs["main"]["id"], slugs["helper"]["id"]
    assert result["root_skill_id"] == new_main
    assert {new_main, new_helper}.isdisjoint({main["id"], helper["id"]})

    got = await client.get(f"/api/v1/skills/{new_main}?content=1", headers=bob.auth)
    text = got.json()["files"][0]["content"]
    helper_files = (
        await client.get(f"/api/v1/skills/{new_helper}?content=1", headers=bob.auth)
    ).json()["files"]
    notes = next(f for f in helper_files if f["path"] == "references/notes.md")
    assert f"[[skill:{new_helper}]]" in text and f"[[resource:{notes['id']}]]" in text
    assert helper["id"] not in text
    logo = next(f for f in helper_files if f["path"] == "assets/logo.bin")
    assert base64.b64decode(logo["content_base64"]) == b"\x00\x01\x02\xff"
    # The links were made: the new helper is referenced by the new main.
    refs = await client.get(f"/api/v1/skills/{new_helper}/references", headers=bob.auth)
    assert [r["skill"]["id"] for r in refs.json()["items"]] == [new_main]
    assert got.json()["vault"]["type"] == "personal"

    # Again, and again: -copy, -copy-2.
    again = (await client.post(f"/api/v1/shares/{made['id']}/import", headers=bob.auth)).json()
    assert sorted(s["slug"] for s in again["skills"]) == ["helper-copy-2", "main-copy"]
    third = (await client.post(f"/api/v1/shares/{made['id']}/import", headers=bob.auth)).json()
    assert sorted(s["slug"] for s in third["skills"]) == ["helper-copy-3", "main-copy-2"]
    # The sharer's skills are untouched.
    assert (await client.get(f"/api/v1/skills/{main['id']}", headers=ada.auth)).json()[
        "content_hash"
    ] == main["content_hash"]
    assert_error(await client.post(f"/api/v1/shares/{made['id']}/import"), 401, "unauthorized")


async def test_a_read_only_principal_cannot_write_shares(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada)
    made = await share(client, ada, skill["id"])
    client.app.dependency_overrides[current_principal] = lambda: Principal(
        user_id=ada.id, session_id="s", token_kind="token", scopes=frozenset({VAULT_READ})
    )
    try:
        assert (await client.get("/api/v1/shares")).status_code == 200
        for response in (
            await client.post(f"/api/v1/skills/{skill['id']}/shares"),
            await client.post(f"/api/v1/shares/{made['id']}/import"),
            await client.delete(f"/api/v1/shares/{made['id']}"),
        ):
            body = assert_error(response, 403, "forbidden")
            assert "vault:write" in body["error_description"]
    finally:
        client.app.dependency_overrides.clear()


async def test_a_share_holds_the_chain_of_mentions(client) -> None:
    """c <- b <- a: sharing a holds all three; a mention back toward a is kept as text."""
    ada = await add_person(client)
    c = await created(client, ada, {"SKILL.md": skill_md("c", "C.")})
    b = await created(client, ada, {"SKILL.md": skill_md("b", "B.", f"[[skill:{c['id']}]]\n")})
    a = await created(client, ada, {"SKILL.md": skill_md("a", "A.", f"[[skill:{b['id']}]]\n")})
    made = await share(client, ada, a["id"])
    assert [s["slug"] for s in made["skills"]] == ["a", "b", "c"]
