"""The OpenAPI document at /api/openapi.json describes every /api/v1 endpoint of api.md
(except search, which is its own router), with its request body."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

ENDPOINTS = [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/vaults"),
    ("patch", "/api/v1/vaults/{vault_id}/membership"),
    ("get", "/api/v1/skills"),
    ("post", "/api/v1/skills"),
    ("get", "/api/v1/skills/{skill_id}"),
    ("get", "/api/v1/skills/by-slug/{slug}"),
    ("get", "/api/v1/skills/{skill_id}/files/{path}"),
    ("get", "/api/v1/skills/{skill_id}/archive"),
    ("put", "/api/v1/skills/{skill_id}"),
    ("delete", "/api/v1/skills/{skill_id}"),
    ("get", "/api/v1/skills/{skill_id}/references"),
    ("get", "/api/v1/sync/manifest"),
    ("post", "/api/v1/sync/bundle"),
]


async def test_every_endpoint_is_documented(client) -> None:
    document = (await client.get("/api/openapi.json")).json()
    for method, path in ENDPOINTS:
        operation = document["paths"][path][method]
        assert "404" in operation["responses"] or path in ("/api/v1/me", "/api/v1/vaults")
        if method in ("post", "put", "patch"):
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert "$ref" in schema, (path, schema)
    skill = document["components"]["schemas"]["SkillOut"]["properties"]
    assert {"id", "vault", "etag", "frontmatter", "files"} <= set(skill)
    upload = document["components"]["schemas"]["FileUpload"]["properties"]
    assert set(upload) == {"path", "content", "content_base64"}
