"""The principal dependency: one place resolves the caller; tests may override it, and a
principal without the write scope can only read."""

from __future__ import annotations

import pytest

from better_skills.server.dependencies import current_principal
from better_skills.server.principal import VAULT_READ, VAULT_WRITE, Principal, vault_scopes
from tests.vault.support import add_person, assert_error, create, created

pytestmark = pytest.mark.anyio


async def test_a_read_only_principal_reads_but_cannot_write(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada)
    app = client.app
    app.dependency_overrides[current_principal] = lambda: Principal(
        user_id=ada.id, session_id="s", token_kind="token", scopes=frozenset({VAULT_READ})
    )
    try:
        # No Authorization header at all: the override is the caller.
        assert (await client.get(f"/api/v1/skills/{skill['id']}")).status_code == 200
        body = assert_error(await create(client, ada), 403, "forbidden")
        assert "vault:write" in body["error_description"]
        response = await client.delete(f"/api/v1/skills/{skill['id']}")
        assert_error(response, 403, "forbidden")
    finally:
        app.dependency_overrides.clear()
    assert (
        await client.delete(f"/api/v1/skills/{skill['id']}", headers=ada.auth)
    ).status_code == 204


@pytest.mark.parametrize(
    ("granted", "held"),
    [
        (None, {VAULT_READ, VAULT_WRITE}),
        ("", {VAULT_READ, VAULT_WRITE}),
        ("openid profile email", {VAULT_READ, VAULT_WRITE}),  # the original CLI's request
        ("openid vault:read", {VAULT_READ}),
        ("vault:write", {VAULT_READ, VAULT_WRITE}),  # write implies read
        ("vault:read  vault:write", {VAULT_READ, VAULT_WRITE}),
        ("vault:admin", set()),  # an unknown vault scope grants nothing
    ],
)
def test_vault_scopes_of_a_stored_grant(granted: str | None, held: set[str]) -> None:
    assert vault_scopes(granted) == held


async def test_a_device_login_granted_only_vault_read_cannot_write(client) -> None:
    """The stored scope is enforced: on /api/v1 writes (403) and on /trpc mutations
    (FORBIDDEN), while reads work; a login that named no vault scope keeps writing."""
    owner = await add_person(client)
    skill = await created(client, owner)
    reader = await add_person(client, "Reader", scope="openid vault:read")
    assert (await client.get("/api/v1/skills", headers=reader.auth)).status_code == 200
    assert (
        await client.get(f"/api/v1/skills/{skill['id']}", headers=reader.auth)
    ).status_code == 404
    body = assert_error(await create(client, reader), 403, "forbidden")
    assert "vault:write" in body["error_description"]
    trpc = await client.post("/trpc/completeOnboarding", json={}, headers=reader.auth)
    assert trpc.status_code == 403
    assert trpc.json()["error"]["data"]["code"] == "FORBIDDEN"
    listed = await client.get("/trpc/vaults.listMine", headers=reader.auth)
    assert listed.status_code == 200, listed.text

    writer = await add_person(client, "Writer", scope="openid profile email")
    assert (await create(client, writer)).status_code == 201
    assert (
        await client.post("/trpc/completeOnboarding", json={}, headers=writer.auth)
    ).status_code == 200
