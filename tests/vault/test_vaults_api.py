"""``/api/v1/me``, ``/api/v1/vaults``, the membership switch, authentication and the system
vault's bootstrap."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from better_skills.server.models import users, vault_memberships, vaults
from better_skills.server.queries.vaults import SYSTEM_VAULT_ID
from better_skills.server.services import to_ms
from tests.vault.support import JSON, add_person, add_team_vault, assert_error, services_of

pytestmark = pytest.mark.anyio


async def test_sign_up_makes_a_personal_vault_and_joins_the_system_vault(client) -> None:
    response = await client.post(
        "/api/auth/sign-up/email",
        json={"name": "Grace Hopper", "email": "grace@example.com", "password": "long password"},
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    client.cookies.clear()
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user"] == {
        "id": response.json()["user"]["id"],
        "name": "Grace Hopper",
        "email": "grace@example.com",
    }
    by_type = {v["type"]: v for v in body["vaults"]}
    assert set(by_type) == {"personal", "system"}
    personal, system = by_type["personal"], by_type["system"]
    assert personal["slug"] == "personal"
    assert personal["name"] == "Grace Hopper's Vault"
    assert personal | {"id": None} == {
        "id": None,
        "slug": "personal",
        "name": "Grace Hopper's Vault",
        "type": "personal",
        "color": None,
        "role": "owner",
        "enabled": True,
        "can_write": True,
        "can_admin": True,
        "skill_count": 0,
    }
    assert system["slug"] == "system-default"
    assert system["name"] == "Default Skills"
    assert system["role"] == "member"
    assert (system["can_write"], system["can_admin"]) == (False, False)
    assert system["skill_count"] == 1  # the shipped better-skills skill


async def test_vaults_lists_every_membership_including_team_vaults(client) -> None:
    ada = await add_person(client, "Ada")
    await add_team_vault(client, "acme", {ada.id: "admin"})
    response = await client.get("/api/v1/vaults", headers=ada.auth)
    assert response.status_code == 200
    items = {v["slug"]: v for v in response.json()["items"]}
    assert set(items) == {"personal", "system-default", "acme"}
    assert items["acme"]["role"] == "admin"
    assert (items["acme"]["can_write"], items["acme"]["can_admin"]) == (True, False)


async def test_no_credentials_and_bad_tokens_get_401(client) -> None:
    for path in ("/api/v1/me", "/api/v1/vaults", "/api/v1/skills", "/api/v1/sync/manifest"):
        assert_error(await client.get(path), 401, "unauthorized")
        assert_error(
            await client.get(path, headers={"Authorization": "Bearer nope"}), 401, "unauthorized"
        )
    response = await client.post("/api/v1/skills", json={"files": []})
    assert_error(response, 401, "unauthorized")


async def test_the_membership_switch(client) -> None:
    ada = await add_person(client)
    vaults_now = (await client.get("/api/v1/vaults", headers=ada.auth)).json()["items"]
    personal = next(v for v in vaults_now if v["type"] == "personal")
    url = f"/api/v1/vaults/{personal['id']}/membership"
    response = await client.patch(url, json={"enabled": False}, headers=ada.auth)
    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is False
    listed = (await client.get("/api/v1/vaults", headers=ada.auth)).json()["items"]
    assert next(v for v in listed if v["id"] == personal["id"])["enabled"] is False
    response = await client.patch(url, json={"enabled": True}, headers=ada.auth)
    assert response.json()["enabled"] is True


async def test_the_membership_switch_refuses_bad_input(client) -> None:
    ada = await add_person(client)
    bob = await add_person(client, "Bob")
    bobs = (await client.get("/api/v1/vaults", headers=bob.auth)).json()["items"]
    bobs_personal = next(v for v in bobs if v["type"] == "personal")
    # Another person's vault, and one that does not exist: 404 alike.
    for vault_id in (bobs_personal["id"], "00000000-0000-0000-0000-000000000000", "x"):
        response = await client.patch(
            f"/api/v1/vaults/{vault_id}/membership", json={"enabled": False}, headers=ada.auth
        )
        assert_error(response, 404, "not_found")
    url = f"/api/v1/vaults/{SYSTEM_VAULT_ID}/membership"
    for bad in ({}, {"enabled": "maybe"}, {"enabled": True, "extra": 1}):
        assert_error(await client.patch(url, json=bad, headers=ada.auth), 400, "invalid_request")
    response = await client.patch(
        url, content=b"enabled=1", headers={**ada.auth, "Content-Type": "text/plain"}
    )
    assert_error(response, 415, "unsupported_media_type")
    response = await client.patch(url, content=b"{", headers={**ada.auth, **JSON})
    assert_error(response, 400, "invalid_request")


async def test_cookie_callers_need_a_trusted_origin_and_the_csrf_token(client) -> None:
    ada = await add_person(client, kind="browser")
    services = services_of(client)
    cookie = {"better_skills_session": ada.token}
    url = f"/api/v1/vaults/{SYSTEM_VAULT_ID}/membership"
    # Reads need neither.
    client.cookies.update(cookie)
    assert (await client.get("/api/v1/vaults")).status_code == 200
    session_id = (await services.sessions.lookup(ada.token)).session.id
    csrf = services.hasher.csrf_token(session_id)
    body = {"enabled": False}
    origin = {"Origin": "http://testserver"}
    assert_error(await client.patch(url, json=body), 403, "forbidden")
    assert_error(await client.patch(url, json=body, headers=origin), 403, "forbidden")
    evil = {"Origin": "https://evil.example", "X-CSRF-Token": csrf}
    assert_error(await client.patch(url, json=body, headers=evil), 403, "forbidden")
    wrong = {**origin, "X-CSRF-Token": csrf[:-1] + ("a" if csrf[-1] != "a" else "b")}
    assert_error(await client.patch(url, json=body, headers=wrong), 403, "forbidden")
    ok = await client.patch(url, json=body, headers={**origin, "X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text


async def test_start_up_backfills_users_made_before_the_vault(client, app_client) -> None:
    """Users of an older database get a personal vault and system membership at start."""
    services = services_of(client)
    now = to_ms(services.clock())
    async with services.db.engine.begin() as conn:
        await conn.execute(
            users.insert().values(
                id="olduser",
                name="Old Timer",
                email="old@example.com",
                email_verified=False,
                password_hash=None,
                created_at=now,
                updated_at=now,
            )
        )
    await services.vaults.ensure_defaults()
    await services.vaults.ensure_defaults()  # idempotent
    async with services.db.engine.connect() as conn:
        owned = (
            await conn.execute(select(vaults.c.type).where(vaults.c.owner_user_id == "olduser"))
        ).all()
        member_of = (
            await conn.execute(
                select(vault_memberships.c.vault_id, vault_memberships.c.role).where(
                    vault_memberships.c.user_id == "olduser"
                )
            )
        ).all()
        systems = (await conn.execute(select(vaults.c.id).where(vaults.c.type == "system"))).all()
    assert [row.type for row in owned] == ["personal"]
    assert len(member_of) == 2
    assert (SYSTEM_VAULT_ID, "member") in [tuple(row) for row in member_of]
    assert len(systems) == 1
