"""The team vault endpoints: creation, members and roles, invitations, leaving, transfer,
and the permission matrix (owner, admin, member, non-member) on both backends."""

from __future__ import annotations

import pytest

from better_skills.server.principal import VAULT_READ, Principal
from tests.teams.support import (
    add_person,
    assert_error,
    create_vault,
    email_of,
    join,
    make_team,
)
from tests.vault.support import services_of

pytestmark = pytest.mark.anyio

DAY = 86_400


async def test_create_a_team_vault(client) -> None:
    ada = await add_person(client, "Ada")
    vault = await create_vault(client, ada, "Acme Platform Team", color="#0F766E")
    assert vault | {"id": None} == {
        "id": None,
        "slug": "acme-platform-team",
        "name": "Acme Platform Team",
        "type": "team",
        "color": "#0f766e",
        "role": "owner",
        "enabled": True,
        "can_write": True,
        "can_admin": True,
        "skill_count": 0,
    }
    listed = (await client.get("/api/v1/vaults", headers=ada.auth)).json()["items"]
    assert "acme-platform-team" in {v["slug"] for v in listed}
    # A skill can be created in it straight away.
    from tests.vault.support import created

    skill = await created(client, ada, vault="acme-platform-team")
    assert skill["vault"]["slug"] == "acme-platform-team"


async def test_create_refuses_bad_and_taken_slugs_and_colours(client) -> None:
    ada = await add_person(client, "Ada")
    bob = await add_person(client, "Bob")
    await create_vault(client, ada, "Acme", slug="acme")
    taken = await client.post(
        "/api/v1/vaults", json={"name": "Other", "slug": "acme"}, headers=bob.auth
    )
    assert_error(taken, 409, "conflict")
    for body in (
        {"name": "X", "slug": "personal"},
        {"name": "X", "slug": "system-default"},
        {"name": "X", "slug": "-bad"},
        {"name": "X", "slug": "UPPER CASE"},
        {"name": "!!!"},
        {"name": "X", "slug": "x", "color": "red"},
        {"name": "X", "slug": "x", "color": "#12345"},
        {"name": "   ", "slug": "x"},
    ):
        response = await client.post("/api/v1/vaults", json=body, headers=ada.auth)
        assert_error(response, 400, "validation_failed")
    for body in ({}, {"name": 3}, {"name": "X", "owner": "me"}, []):
        response = await client.post("/api/v1/vaults", json=body, headers=ada.auth)
        assert_error(response, 400, "invalid_request")
    response = await client.post(
        "/api/v1/vaults",
        content=b"{not json",
        headers={**ada.auth, "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.json()
    assert_error(await client.post("/api/v1/vaults", json={"name": "X"}), 401, "unauthorized")


async def test_team_vaults_admins_restricts_creation(app_client) -> None:
    async with app_client(TEAM_VAULTS="admins") as client:
        ada = await add_person(client, "Ada")
        refused = await client.post("/api/v1/vaults", json={"name": "Acme"}, headers=ada.auth)
        body = assert_error(refused, 403, "forbidden")
        assert "administrators" in body["error_description"]
        await services_of(client).teams.set_admin(email_of(ada), True)
        await create_vault(client, ada, "Acme")
        await services_of(client).teams.set_admin(email_of(ada), False)
        again = await client.post("/api/v1/vaults", json={"name": "Acme 2"}, headers=ada.auth)
        assert_error(again, 403, "forbidden")


async def test_invite_list_accept(client) -> None:
    owner = await add_person(client, "Olive")
    bob = await add_person(client, "Bob")
    carol = await add_person(client, "Carol")
    vault = await create_vault(client, owner, "Acme", slug="acme")
    invited = await client.post(
        f"/api/v1/vaults/{vault['id']}/invitations",
        json={"email": email_of(bob).upper(), "role": "admin"},
        headers=owner.auth,
    )
    assert invited.status_code == 201, invited.text
    invitation = invited.json()
    assert invitation["email"] == email_of(bob)
    assert (invitation["role"], invitation["status"]) == ("admin", "pending")
    assert invitation["vault"]["slug"] == "acme"
    assert invitation["invited_by"] == {"id": owner.id, "name": "Olive"}
    assert invitation["url"] == f"http://testserver/settings?invitation={invitation['id']}"
    # The vault's pending invitations, for its managers.
    pending = await client.get("/api/v1/vaults/acme/invitations", headers=owner.auth)
    assert [i["id"] for i in pending.json()["items"]] == [invitation["id"]]
    # The invitee sees it; nobody else does, and nobody else can answer it.
    mine = (await client.get("/api/v1/invitations", headers=bob.auth)).json()
    assert [i["id"] for i in mine["items"]] == [invitation["id"]]
    assert mine["next_cursor"] is None
    assert (await client.get("/api/v1/invitations", headers=carol.auth)).json()["items"] == []
    for verb in ("accept", "decline"):
        response = await client.post(
            f"/api/v1/invitations/{invitation['id']}/{verb}", headers=carol.auth
        )
        assert_error(response, 404, "not_found")
    # Bob is not a member yet: the vault is a 404 for him.
    assert_error(
        await client.get("/api/v1/vaults/acme/members", headers=bob.auth), 404, "not_found"
    )
    accepted = await client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=bob.auth)
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["slug"], accepted.json()["role"]) == ("acme", "admin")
    assert (await client.get("/api/v1/invitations", headers=bob.auth)).json()["items"] == []
    again = await client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=bob.auth)
    assert_error(again, 400, "invalid_request")
    members = (await client.get("/api/v1/vaults/acme/members", headers=bob.auth)).json()["items"]
    assert [(m["name"], m["role"]) for m in members] == [("Olive", "owner"), ("Bob", "admin")]
    assert members[1]["email"] == email_of(bob)
    assert (await client.get("/api/v1/vaults/acme/invitations", headers=owner.auth)).json()[
        "items"
    ] == []


async def test_inviting_again_refreshes_the_invitation(app_client, clock) -> None:
    async with app_client(SESSION_TTL="60d") as client:
        await _refresh(client, clock)


async def _refresh(client, clock) -> None:
    owner = await add_person(client, "Olive")
    bob = await add_person(client, "Bob")
    vault = await create_vault(client, owner, "Acme", slug="acme")
    url = f"/api/v1/vaults/{vault['id']}/invitations"
    first = (await client.post(url, json={"email": email_of(bob)}, headers=owner.auth)).json()
    assert first["role"] == "member"
    clock.advance(10 * DAY)
    second = (
        await client.post(url, json={"email": email_of(bob), "role": "admin"}, headers=owner.auth)
    ).json()
    assert second["id"] == first["id"]
    assert second["role"] == "admin"
    assert second["expires_at"] > first["expires_at"]
    clock.advance(10 * DAY)  # 20 days after the first, 10 after the refresh: still valid
    accepted = await client.post(f"/api/v1/invitations/{first['id']}/accept", headers=bob.auth)
    assert accepted.json()["role"] == "admin"


async def test_an_expired_invitation_is_not_listed_and_cannot_be_accepted(
    app_client, clock
) -> None:
    async with app_client(SESSION_TTL="60d") as client:
        await _expire(client, clock)


async def _expire(client, clock) -> None:
    owner = await add_person(client, "Olive")
    bob = await add_person(client, "Bob")
    vault = await create_vault(client, owner, "Acme", slug="acme")
    invitation = (
        await client.post(
            f"/api/v1/vaults/{vault['id']}/invitations",
            json={"email": email_of(bob)},
            headers=owner.auth,
        )
    ).json()
    clock.advance(14 * DAY - 1)
    assert len((await client.get("/api/v1/invitations", headers=bob.auth)).json()["items"]) == 1
    clock.advance(2)
    assert (await client.get("/api/v1/invitations", headers=bob.auth)).json()["items"] == []
    refused = await client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=bob.auth)
    body = assert_error(refused, 400, "invalid_request")
    assert "expired" in body["error_description"]
    assert_error(await client.get("/api/v1/vaults/acme", headers=bob.auth), 404, "not_found")


async def test_decline_and_revoke(client) -> None:
    owner = await add_person(client, "Olive")
    bob = await add_person(client, "Bob")
    carol = await add_person(client, "Carol")
    vault = await create_vault(client, owner, "Acme", slug="acme")
    url = f"/api/v1/vaults/{vault['id']}/invitations"
    to_bob = (await client.post(url, json={"email": email_of(bob)}, headers=owner.auth)).json()
    to_carol = (await client.post(url, json={"email": email_of(carol)}, headers=owner.auth)).json()
    declined = await client.post(f"/api/v1/invitations/{to_bob['id']}/decline", headers=bob.auth)
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    refused = await client.post(f"/api/v1/invitations/{to_bob['id']}/accept", headers=bob.auth)
    assert_error(refused, 400, "invalid_request")
    # Revoked: it disappears, and the link no longer works.
    revoked = await client.delete(f"{url}/{to_carol['id']}", headers=owner.auth)
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/invitations", headers=carol.auth)).json()["items"] == []
    refused = await client.post(f"/api/v1/invitations/{to_carol['id']}/accept", headers=carol.auth)
    assert_error(refused, 400, "invalid_request")
    assert_error(
        await client.delete(f"{url}/{to_carol['id']}", headers=owner.auth), 404, "not_found"
    )
    # A declined invitation can be sent again.
    again = await client.post(url, json={"email": email_of(bob)}, headers=owner.auth)
    assert again.status_code == 201 and again.json()["id"] != to_bob["id"]
    for bad in ("nope", "x" * 300, "%00"):
        response = await client.post(f"/api/v1/invitations/{bad}/accept", headers=bob.auth)
        assert_error(response, 404, "not_found")


async def test_invitation_input_is_checked(client) -> None:
    team = await make_team(client)
    url = f"/api/v1/vaults/{team.vault_id}/invitations"
    own = await client.post(url, json={"email": email_of(team.owner)}, headers=team.owner.auth)
    assert_error(own, 400, "invalid_request")
    member = await client.post(url, json={"email": email_of(team.member)}, headers=team.owner.auth)
    assert_error(member, 409, "conflict")
    bad = await client.post(url, json={"email": "not an email"}, headers=team.owner.auth)
    assert_error(bad, 400, "validation_failed")
    for body in ({"email": "a@example.com", "role": "owner"}, {"role": "member"}, {"email": 1}):
        assert_error(
            await client.post(url, json=body, headers=team.owner.auth), 400, "invalid_request"
        )


async def test_the_permission_matrix(client) -> None:
    team = await make_team(client)
    base = f"/api/v1/vaults/{team.vault_id}"
    people = {"owner": team.owner, "admin": team.admin, "member": team.member}
    # Listing members and invitations: owner and admin; a member may not; others: 404.
    for role, who in people.items():
        for path in ("/members", "/invitations"):
            response = await client.get(base + path, headers=who.auth)
            expected = 403 if role == "member" else 200
            assert response.status_code == expected, (role, path, response.text)
    for path in ("/members", "/invitations"):
        assert_error(await client.get(base + path, headers=team.outsider.auth), 404, "not_found")
    # Every write about the vault is a 404 for a non-member, a 403 for a member.
    writes = [
        ("PATCH", "", {"color": "#112233"}),
        ("POST", "/invitations", {"email": "new@example.com"}),
        ("PATCH", f"/members/{team.admin.id}", {"role": "member"}),
        ("DELETE", f"/members/{team.admin.id}", None),
        ("POST", "/transfer", {"user_id": team.admin.id}),
    ]
    for method, path, body in writes:
        response = await client.request(method, base + path, json=body, headers=team.outsider.auth)
        assert_error(response, 404, "not_found")
        response = await client.request(method, base + path, json=body, headers=team.member.auth)
        assert_error(response, 403, "forbidden")
    assert_error(await client.post(f"{base}/leave", headers=team.outsider.auth), 404, "not_found")
    # The owner cannot be demoted or removed, by the admin nor by the owner.
    for who in (team.owner, team.admin):
        demote = await client.patch(
            f"{base}/members/{team.owner.id}", json={"role": "member"}, headers=who.auth
        )
        assert_error(demote, 400, "invalid_request")
        remove = await client.delete(f"{base}/members/{team.owner.id}", headers=who.auth)
        assert_error(remove, 400, "invalid_request")
    # An admin manages: colour, name, roles (by email too), removal.
    patched = await client.patch(
        base, json={"name": "Acme Inc", "color": "#AABBCC"}, headers=team.admin.auth
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["color"]) == ("Acme Inc", "#aabbcc")
    cleared = await client.patch(base, json={"color": None}, headers=team.owner.auth)
    assert (cleared.json()["name"], cleared.json()["color"]) == ("Acme Inc", None)
    promoted = await client.patch(
        f"{base}/members/{email_of(team.member)}", json={"role": "admin"}, headers=team.admin.auth
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "admin"
    vaults = (await client.get("/api/v1/vaults", headers=team.member.auth)).json()["items"]
    assert {v["slug"]: v["can_write"] for v in vaults}["acme"] is True
    assert (
        await client.delete(f"{base}/members/{team.member.id}", headers=team.admin.auth)
    ).status_code == 204
    assert_error(await client.get(f"{base}/members", headers=team.member.auth), 404, "not_found")
    assert_error(
        await client.delete(f"{base}/members/{team.member.id}", headers=team.admin.auth),
        404,
        "not_found",
    )
    # Only the owner transfers; the old owner stays on as an admin.
    refused = await client.post(
        f"{base}/transfer", json={"user_id": team.admin.id}, headers=team.admin.auth
    )
    assert_error(refused, 403, "forbidden")
    assert_error(
        await client.post(
            f"{base}/transfer", json={"user_id": team.owner.id}, headers=team.owner.auth
        ),
        400,
        "invalid_request",
    )
    assert_error(
        await client.post(
            f"{base}/transfer", json={"user_id": team.outsider.id}, headers=team.owner.auth
        ),
        404,
        "not_found",
    )
    moved = await client.post(
        f"{base}/transfer", json={"user_id": team.admin.id}, headers=team.owner.auth
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["role"] == "admin"
    members = (await client.get(f"{base}/members", headers=team.admin.auth)).json()["items"]
    assert [(m["user_id"], m["role"]) for m in members] == [
        (team.admin.id, "owner"),
        (team.owner.id, "admin"),
    ]
    # The owner cannot leave; anyone else can, and then the vault is a 404 for them.
    assert_error(
        await client.post(f"{base}/leave", headers=team.admin.auth), 400, "invalid_request"
    )
    assert (await client.post(f"{base}/leave", headers=team.owner.auth)).status_code == 204
    assert_error(await client.get(f"{base}/members", headers=team.owner.auth), 404, "not_found")


async def test_personal_and_system_vaults_have_no_members_to_manage(client) -> None:
    ada = await add_person(client, "Ada")
    for slug in ("personal", "system-default"):
        base = f"/api/v1/vaults/{slug}"
        for method, path, body in (
            ("GET", "/members", None),
            ("POST", "/invitations", {"email": "b@example.com"}),
            ("POST", "/leave", None),
            ("PATCH", "", {"color": "#112233"}),
            ("POST", "/transfer", {"user_id": ada.id}),
        ):
            response = await client.request(method, base + path, json=body, headers=ada.auth)
            assert_error(response, 400, "invalid_request")
    vaults = (await client.get("/api/v1/vaults", headers=ada.auth)).json()["items"]
    assert {v["slug"] for v in vaults} == {"personal", "system-default"}


async def test_writes_need_the_write_scope(client) -> None:
    from better_skills.server.dependencies import current_principal

    team = await make_team(client)
    app = client.app
    app.dependency_overrides[current_principal] = lambda: Principal(
        user_id=team.owner.id, session_id="s", token_kind="token", scopes=frozenset({VAULT_READ})
    )
    try:
        base = f"/api/v1/vaults/{team.vault_id}"
        assert (await client.get(f"{base}/members")).status_code == 200
        for method, path, body in (
            ("POST", "/api/v1/vaults", {"name": "New"}),
            ("PATCH", base, {"color": "#112233"}),
            ("POST", f"{base}/invitations", {"email": "new@example.com"}),
            ("PATCH", f"{base}/members/{team.member.id}", {"role": "admin"}),
            ("DELETE", f"{base}/members/{team.member.id}", None),
            ("POST", f"{base}/transfer", {"user_id": team.admin.id}),
        ):
            response = await client.request(method, path, json=body)
            assert_error(response, 403, "forbidden")
    finally:
        app.dependency_overrides.clear()
    members = (await client.get(f"{base}/members", headers=team.owner.auth)).json()["items"]
    assert len(members) == 3


async def test_two_people_join_and_see_each_others_skills(client) -> None:
    """What a team vault is for: a writer's skill reaches a read-only member's sync."""
    from tests.vault.support import created

    owner = await add_person(client, "Olive")
    bob = await add_person(client, "Bob")
    vault = await create_vault(client, owner, "Acme", slug="acme")
    await join(client, vault["id"], owner, bob, "member")
    skill = await created(client, owner, vault="acme")
    manifest = (await client.get("/api/v1/sync/manifest", headers=bob.auth)).json()["items"]
    assert skill["id"] in {item["id"] for item in manifest}
    from tests.vault.support import create

    refused = await create(client, bob, vault="acme")
    assert_error(refused, 403, "forbidden")
