"""Malformed input gets a 4xx in the documented shape, never a 500 (on PostgreSQL a NUL or a
lone surrogate reaching a query would be a database error)."""

from __future__ import annotations

import json

import pytest

from tests.vault.support import JSON, add_person, assert_error, created, skill_md, uploads

pytestmark = pytest.mark.anyio


async def test_nul_and_control_characters_in_parameters(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada)
    url = f"/api/v1/skills/{skill['id']}"
    assert_error(
        await client.get("/api/v1/skills?q=a%00b", headers=ada.auth), 400, "invalid_request"
    )
    for path in (
        "/api/v1/skills?vault=a%00b",
        "/api/v1/skills/by-slug/a%00b",
        "/api/v1/skills/by-slug/x?vault=%00",
        f"{url}/files/a%00b",
        "/api/v1/skills/%00",
    ):
        assert_error(await client.get(path, headers=ada.auth), 404, "not_found")
    response = await client.patch(
        "/api/v1/vaults/a%00b/membership", json={"enabled": True}, headers=ada.auth
    )
    assert_error(response, 404, "not_found")


async def test_lone_surrogates_in_json_bodies(client) -> None:
    ada = await add_person(client)

    # json.dumps keeps "\ud800" as an escape; the server decodes it into a lone surrogate.
    def post(body: dict) -> bytes:
        return json.dumps(body).encode()

    files = uploads({"SKILL.md": skill_md()})
    cases = [
        {"files": [*files, {"path": "bad\ud800.md", "content": "x"}]},
        {"files": [*files, {"path": "ok.md", "content": "bad \ud800"}]},
        {"files": files, "vault": "\ud800"},
        {"files": files, "slug": "\ud800"},
    ]
    for body in cases:
        response = await client.post(
            "/api/v1/skills", content=post(body), headers={**ada.auth, **JSON}
        )
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.json()["error"] in ("validation_failed", "not_found", "invalid_request")
    response = await client.post(
        "/api/v1/sync/bundle", content=post({"ids": ["\ud800"]}), headers={**ada.auth, **JSON}
    )
    assert response.status_code == 200 and response.json() == {"items": []}
