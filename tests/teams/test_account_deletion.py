"""Deleting an account: the user's rows go, the personal vault and its skills go, team
vaults are left (or deleted when the user owned them alone), no constraint breaks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from better_skills.protocol import errors
from better_skills.server.models import (
    access_tokens,
    sessions,
    skills,
    users,
    vault_invitations,
    vault_memberships,
    vaults,
)
from tests.teams.support import add_person, create_vault, email_of, join
from tests.vault.support import created, services_of

pytestmark = pytest.mark.anyio


async def _count(client, table, *where) -> int:
    async with services_of(client).db.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def test_delete_account(client) -> None:
    svc = services_of(client)
    ada = await add_person(client, "Ada")
    bob = await add_person(client, "Bob")
    # Ada's personal skill, a skill of hers in Bob's team, a vault she owns alone, a vault
    # she owns with Bob, and an invitation she sent.
    await created(client, ada)
    bobs = await create_vault(client, bob, "Bob's Team", slug="bobs")
    await join(client, bobs["id"], bob, ada, "admin")
    in_team = await created(client, ada, vault="bobs")
    alone = await create_vault(client, ada, "Solo", slug="solo")
    await created(client, ada, vault="solo")
    shared = await create_vault(client, ada, "Shared", slug="shared")
    await join(client, shared["id"], ada, bob, "member")
    await client.post(
        f"/api/v1/vaults/{shared['id']}/invitations",
        json={"email": "carol@example.com"},
        headers=ada.auth,
    )
    await client.post(
        f"/api/v1/vaults/{bobs['id']}/invitations", json={"email": email_of(ada)}, headers=bob.auth
    )

    # Owner of a team vault with other members: refused until ownership is transferred.
    with pytest.raises(errors.Conflict) as refused:
        await svc.teams.delete_account(ada.id)
    assert "shared" in refused.value.description
    assert await _count(client, users, users.c.id == ada.id) == 1

    await svc.teams.transfer(ada.id, "shared", bob.id)
    result = await svc.teams.delete_account(ada.id)
    assert result.deleted_vaults == ["solo"]
    assert sorted(result.left_vaults) == ["bobs", "shared"]

    assert await _count(client, users, users.c.id == ada.id) == 0
    assert await _count(client, sessions, sessions.c.user_id == ada.id) == 0
    assert await _count(client, access_tokens, access_tokens.c.user_id == ada.id) == 0
    assert await _count(client, vault_memberships, vault_memberships.c.user_id == ada.id) == 0
    assert await _count(client, vaults, vaults.c.owner_user_id == ada.id) == 0
    assert await _count(client, vaults, vaults.c.id == alone["id"]) == 0
    assert await _count(client, skills, skills.c.vault_id == alone["id"]) == 0
    assert await _count(client, skills, skills.c.created_by == ada.id) == 0
    assert await _count(client, vault_invitations, vault_invitations.c.email == email_of(ada)) == 0
    assert await _count(client, vault_invitations, vault_invitations.c.invited_by == ada.id) == 0
    # The team vaults and their skills stay for the others.
    assert await _count(client, skills, skills.c.id == in_team["id"]) == 1
    mine = (await client.get("/api/v1/vaults", headers=bob.auth)).json()["items"]
    assert {"bobs", "shared"} <= {v["slug"] for v in mine}
    members = (await client.get("/api/v1/vaults/shared/members", headers=bob.auth)).json()
    assert [m["user_id"] for m in members["items"]] == [bob.id]
    # Her old token is refused.
    assert (await client.get("/api/v1/me", headers=ada.auth)).status_code == 401
    async with svc.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert (await conn.execute(text("PRAGMA foreign_key_check"))).all() == []
