"""``GET /api/v1/sync/manifest``: one query, an ETag over the content, 304 when current,
disabled vaults left out."""

from __future__ import annotations

import pytest

from tests.vault.support import add_person, add_team_vault, created, services_of, skill_md, uploads

pytestmark = pytest.mark.anyio


async def test_manifest_lists_what_the_caller_syncs(client) -> None:
    ada = await add_person(client)
    bob = await add_person(client, "Bob")
    team_id = await add_team_vault(client, "acme", {ada.id: "member", bob.id: "owner"})
    mine = await created(client, ada)
    team = await created(client, bob, {"SKILL.md": skill_md("team-skill")}, vault="acme")
    await created(client, bob, {"SKILL.md": skill_md("bobs-own")})
    response = await client.get("/api/v1/sync/manifest", headers=ada.auth)
    assert response.status_code == 200
    body = response.json()
    assert body["generated_at"].endswith("Z")
    by_slug = {i["slug"]: i for i in body["items"]}
    assert set(by_slug) == {"demo-skill", "team-skill", "better-skills"}
    assert by_slug["demo-skill"] == {
        "id": mine["id"],
        "vault": mine["vault"],
        "slug": "demo-skill",
        "name": "demo-skill",
        "description": "A skill for tests.",
        "content_hash": mine["content_hash"],
        "updated_at": mine["updated_at"],
    }
    assert by_slug["team-skill"]["id"] == team["id"]
    # A disabled vault is left out, unless asked for.
    await client.patch(
        f"/api/v1/vaults/{team_id}/membership", json={"enabled": False}, headers=ada.auth
    )
    enabled_only = (await client.get("/api/v1/sync/manifest", headers=ada.auth)).json()
    assert "team-skill" not in {i["slug"] for i in enabled_only["items"]}
    everything = await client.get("/api/v1/sync/manifest?include_disabled=1", headers=ada.auth)
    assert "team-skill" in {i["slug"] for i in everything.json()["items"]}


async def test_manifest_etag_and_304(client) -> None:
    ada = await add_person(client)
    clock = services_of(client).clock
    skill = await created(client, ada)
    first = await client.get("/api/v1/sync/manifest", headers=ada.auth)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    clock.advance(60)  # generated_at moves; the validator does not
    again = await client.get("/api/v1/sync/manifest", headers={**ada.auth, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    weak = await client.get(
        "/api/v1/sync/manifest", headers={**ada.auth, "If-None-Match": f'"x", W/{etag}'}
    )
    assert weak.status_code == 304
    # Any change to a synced skill changes the ETag: content, a new skill, a disabled vault.
    await client.put(
        f"/api/v1/skills/{skill['id']}",
        json={"files": uploads({"SKILL.md": skill_md(body="new body\n")})},
        headers=ada.auth,
    )
    changed = await client.get("/api/v1/sync/manifest", headers={**ada.auth, "If-None-Match": etag})
    assert changed.status_code == 200
    etag2 = changed.headers["etag"]
    assert etag2 != etag
    vaults = (await client.get("/api/v1/vaults", headers=ada.auth)).json()["items"]
    personal = next(v for v in vaults if v["type"] == "personal")
    await client.patch(
        f"/api/v1/vaults/{personal['id']}/membership", json={"enabled": False}, headers=ada.auth
    )
    third = await client.get("/api/v1/sync/manifest", headers={**ada.auth, "If-None-Match": etag2})
    assert third.status_code == 200 and third.headers["etag"] != etag2
    # Another person's manifest is their own.
    bob = await add_person(client, "Bob")
    bobs = await client.get("/api/v1/sync/manifest", headers=bob.auth)
    assert [i["slug"] for i in bobs.json()["items"]] == ["better-skills"]
