"""The sync manifest's ETag comes from the vaults' revisions: it changes with every kind of
change to what the caller syncs, and stays put otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from better_skills.server.models import vault_memberships, vaults
from better_skills.server.queries import vaults as vault_queries
from tests.vault.support import (
    add_person,
    add_team_vault,
    created,
    services_of,
    skill_md,
    uploads,
)

pytestmark = pytest.mark.anyio

URL = "/api/v1/sync/manifest"


async def test_the_etag_follows_every_change_and_only_those(client) -> None:
    ada, bob = await add_person(client, "Ada"), await add_person(client, "Bob")
    crew = await add_team_vault(client, "crew", {ada.id: "owner"})
    services = services_of(client)
    seen: list[str] = []

    async def etag() -> str:
        """The current ETag; the 304 path (memberships only) agrees with the 200 path."""
        full = await client.get(URL, headers=ada.auth)
        assert full.status_code == 200
        tag = full.headers["etag"]
        cheap = await client.get(URL, headers={**ada.auth, "If-None-Match": tag})
        assert cheap.status_code == 304 and cheap.headers["etag"] == tag
        return tag

    async def changed(what: str) -> None:
        tag = await etag()
        assert tag not in seen, what
        seen.append(tag)

    async def unchanged(what: str) -> None:
        assert await etag() == seen[-1], what

    await changed("start")
    await unchanged("nothing happened")
    skill = await created(client, ada, {"SKILL.md": skill_md("one"), "notes.md": b"a"})
    await changed("create")
    url = f"/api/v1/skills/{skill['id']}"
    files = uploads({"SKILL.md": skill_md("one"), "notes.md": b"b"})  # same SKILL.md
    assert (await client.put(url, json={"files": files}, headers=ada.auth)).status_code == 200
    await changed("file-only update")
    moved = await client.put(url, json={"files": files, "vault": "crew"}, headers=ada.auth)
    assert moved.status_code == 200
    await changed("move")
    assert (await client.delete(url, headers=ada.auth)).status_code == 204
    await changed("delete")
    switch = f"/api/v1/vaults/{crew}/membership"
    patched = await client.patch(switch, json={"enabled": False}, headers=ada.auth)
    assert patched.status_code == 200
    await changed("membership switched off")
    await client.patch(switch, json={"enabled": True}, headers=ada.auth)
    assert await etag() == seen[-2]  # back to what it was: the same manifest
    seen.append(seen[-2])
    # Someone else's vault: Bob's writes do not touch Ada's manifest, until she can read it.
    bobs = await add_team_vault(client, "bobs", {bob.id: "owner"})
    await created(client, bob, {"SKILL.md": skill_md("bobs-skill")}, vault="bobs")
    await created(client, bob, {"SKILL.md": skill_md("bob-own")})
    await unchanged("another person's writes")
    async with services.db.write() as tx:
        await vault_queries.insert_membership(tx, bobs, ada.id, "member", 0)
    await changed("a vault became readable")
    async with services.db.engine.begin() as conn:
        await conn.execute(
            update(vault_memberships)
            .where(vault_memberships.c.vault_id == bobs, vault_memberships.c.user_id == ada.id)
            .values(role="admin")
        )
    await changed("role changed")
    async with services.db.engine.begin() as conn:
        await conn.execute(
            delete(vault_memberships).where(
                vault_memberships.c.vault_id == bobs, vault_memberships.c.user_id == ada.id
            )
        )
    assert await etag() == seen[-3], "a vault became unreadable: the manifest before it"
    async with services.db.engine.begin() as conn:
        await conn.execute(update(vaults).where(vaults.c.id == crew).values(name="Renamed"))
    await changed("vault renamed")
    async with services.db.engine.begin() as conn:
        await conn.execute(update(vaults).where(vaults.c.id == crew).values(slug="crew2"))
    await changed("vault slug changed")


async def test_a_move_bumps_both_vaults(client) -> None:
    ada = await add_person(client)
    crew = await add_team_vault(client, "crew", {ada.id: "owner"})
    skill = await created(client, ada)

    async def revisions() -> dict[str, int]:
        async with services_of(client).db.engine.connect() as conn:
            rows = await conn.execute(select(vaults.c.id, vaults.c.revision))
            return {row.id: row.revision for row in rows}

    before = await revisions()
    files = uploads({"SKILL.md": skill_md()})
    url = f"/api/v1/skills/{skill['id']}"
    moved = await client.put(url, json={"files": files, "vault": "crew"}, headers=ada.auth)
    assert moved.status_code == 200
    after = await revisions()
    bumped = {v for v in after if after[v] != before[v]}
    assert bumped == {crew, skill["vault"]["id"]}
