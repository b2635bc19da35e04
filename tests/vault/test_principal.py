"""The principal dependency: one place resolves the caller; tests may override it, and a
principal without the write scope can only read."""

from __future__ import annotations

import pytest

from better_skills.server.dependencies import current_principal
from better_skills.server.principal import VAULT_READ, Principal
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
