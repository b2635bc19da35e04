"""The permission matrix (original-system.md §1.10): for each vault type and role, who may
read, write (create, replace, delete) and move; a non-member gets 404 everywhere."""

from __future__ import annotations

import pytest

from better_skills.server.queries.vaults import SYSTEM_VAULT_ID
from better_skills.server.services.permissions import access
from tests.vault.support import (
    Person,
    add_person,
    add_team_vault,
    assert_error,
    create,
    created,
    skill_md,
    uploads,
)

pytestmark = pytest.mark.anyio

#: (vault type, role of the caller) -> may read, may write. None: not a member.
MATRIX = [
    ("personal", "owner", True, True),
    ("team", "owner", True, True),
    ("team", "admin", True, True),
    ("team", "member", True, False),
    ("system", "member", True, False),
    ("personal", None, False, False),
    ("team", None, False, False),
]


def test_the_pure_matrix() -> None:
    assert access("personal", "owner") == access("personal", "owner")
    assert (access("team", "owner").can_admin, access("team", "admin").can_admin) == (True, False)
    assert access("system", "owner").can_write is False
    assert access("team", None).can_read is False
    assert access("team", "member").read_only_reason


async def _setup(client, vault_type: str, role: str | None) -> tuple[Person, str, str, dict]:
    """The caller, the vault's slug-or-id as the caller names it, its id, and a skill in it."""
    caller = await add_person(client, "Caller")
    owner = await add_person(client, "Owner")
    if vault_type == "system":
        skills = await client.get("/api/v1/skills?vault=system-default", headers=caller.auth)
        return caller, "system-default", SYSTEM_VAULT_ID, skills.json()["items"][0]
    if vault_type == "personal":
        holder = caller if role == "owner" else owner
        skill = await created(client, holder)
        return caller, skill["vault"]["id"], skill["vault"]["id"], skill
    members = {owner.id: "owner"}
    if role is not None:
        members[caller.id] = role
    vault_id = await add_team_vault(client, "acme", members)
    skill = await created(client, owner, vault="acme")
    return caller, "acme", vault_id, skill


@pytest.mark.parametrize(("vault_type", "role", "can_read", "can_write"), MATRIX)
async def test_read_write_and_delete(client, vault_type, role, can_read, can_write) -> None:
    caller, vault_ref, _vault_id, skill = await _setup(client, vault_type, role)
    url = f"/api/v1/skills/{skill['id']}"
    reads = [
        url,
        f"{url}?content=1",
        f"{url}/files/SKILL.md",
        f"{url}/archive",
        f"{url}/references",
        f"/api/v1/skills/by-slug/{skill['slug']}?vault={vault_ref}",
    ]
    for path in reads:
        response = await client.get(path, headers=caller.auth)
        if can_read:
            assert response.status_code == 200, (path, response.text)
        else:
            assert_error(response, 404, "not_found")
    listed = await client.get("/api/v1/skills?limit=100", headers=caller.auth)
    assert (skill["id"] in [i["id"] for i in listed.json()["items"]]) == can_read
    files = {"files": uploads({"SKILL.md": skill_md(skill["name"], body="changed\n")})}
    put = await client.put(url, json=files, headers=caller.auth)
    new = await create(client, caller, {"SKILL.md": skill_md("fresh")}, vault=vault_ref)
    if can_write:
        assert put.status_code == 200, put.text
        assert new.status_code == 201, new.text
        assert (await client.delete(url, headers=caller.auth)).status_code == 204
    elif can_read:
        body = assert_error(put, 403, "forbidden")
        assert "read-only" in body["error_description"]
        assert_error(new, 403, "forbidden")
        assert_error(await client.delete(url, headers=caller.auth), 403, "forbidden")
    else:
        assert_error(put, 404, "not_found")
        assert_error(new, 404, "not_found")
        assert_error(await client.delete(url, headers=caller.auth), 404, "not_found")
        patch = await client.patch(
            f"/api/v1/vaults/{_vault_id}/membership", json={"enabled": False}, headers=caller.auth
        )
        assert_error(patch, 404, "not_found")


@pytest.mark.parametrize(("vault_type", "role", "can_read", "can_write"), MATRIX)
async def test_moving_needs_write_access_to_both_vaults(
    client, vault_type, role, can_read, can_write
) -> None:
    caller, vault_ref, vault_id, skill = await _setup(client, vault_type, role)
    own = await created(client, caller, {"SKILL.md": skill_md("mine-to-move")})
    # Into the vault under test.
    into = await client.put(
        f"/api/v1/skills/{own['id']}",
        json={"files": uploads({"SKILL.md": skill_md("mine-to-move")}), "vault": vault_ref},
        headers=caller.auth,
    )
    if vault_type == "personal" and role == "owner":
        assert into.status_code == 200  # a move to where it is already
    elif can_write:
        assert into.status_code == 200, into.text
        assert into.json()["vault"]["id"] == vault_id
    elif can_read:
        assert_error(into, 403, "forbidden")
    else:
        assert_error(into, 404, "not_found")
    # Out of the vault under test, into the caller's personal vault.
    out = await client.put(
        f"/api/v1/skills/{skill['id']}",
        json={"files": uploads({"SKILL.md": skill_md(skill["name"])}), "vault": "personal"},
        headers=caller.auth,
    )
    if can_write:
        assert out.status_code == 200, out.text
        assert out.json()["vault"]["slug"] == "personal"
    elif can_read:
        assert_error(out, 403, "forbidden")
    else:
        assert_error(out, 404, "not_found")


async def test_a_move_checks_mentions_against_the_new_vault(client) -> None:
    ada = await add_person(client)
    await add_team_vault(client, "acme", {ada.id: "owner"})
    target = await created(client, ada, {"SKILL.md": skill_md("target")})
    body = skill_md("mover", body=f"[[skill:{target['id']}]]\n")
    mover = await created(client, ada, {"SKILL.md": body})
    response = await client.put(
        f"/api/v1/skills/{mover['id']}",
        json={"files": uploads({"SKILL.md": body}), "vault": "acme"},
        headers=ada.auth,
    )
    assert assert_error(response, 400, "validation_failed")["details"][0]["code"] == (
        "mention_target"
    )
