"""Every /api/v1 route that writes refuses a principal without ``vault:write``.

The routes declare it in their signature (``WritePrincipal``); this test walks the
application's OpenAPI document (every route it serves), so a new POST, PUT, PATCH or DELETE
route that forgot it fails here rather than letting a read-only token write.
"""

from __future__ import annotations

import uuid

import pytest

from better_skills.server.dependencies import current_principal
from better_skills.server.principal import VAULT_READ, Principal
from tests.vault.support import add_person, assert_error

pytestmark = pytest.mark.anyio

WRITES = {"post", "put", "patch", "delete"}
#: POST routes that only read (a list of ids too long for a query string).
READS_BY_POST = {"/api/v1/sync/bundle"}


def write_routes(app) -> list[tuple[str, str]]:
    found = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/api/v1/") or path in READS_BY_POST:
            continue
        if path.startswith("/api/v1/tokens"):
            continue  # minting tokens needs a password session (tests/server/test_tokens.py)
        found += [(method.upper(), path) for method in sorted(operations) if method in WRITES]
    return found


async def test_every_write_route_refuses_a_read_only_principal(client) -> None:
    app = client.app
    ada = await add_person(client)
    routes = write_routes(app)
    assert len(routes) >= 17, routes  # the walk found the routes (17 when this was written)
    app.dependency_overrides[current_principal] = lambda: Principal(
        user_id=ada.id, session_id="s", token_kind="device", scopes=frozenset({VAULT_READ})
    )
    try:
        for method, path in routes:
            url = path
            for name in ("vault_id", "skill_id", "share_id", "user_id", "invitation_id"):
                url = url.replace("{" + name + "}", str(uuid.uuid4()))
            assert "{" not in url, url
            response = await client.request(method, url, json={})
            body = assert_error(response, 403, "forbidden")
            assert "vault:write" in body["error_description"], (method, path, body)
    finally:
        app.dependency_overrides.clear()
