"""The /trpc transport: batching, envelopes, error codes, auth, input validation."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.trpc.support import error_of, mutate, query
from tests.vault.support import add_person

pytestmark = pytest.mark.anyio


async def test_batched_paths_answer_in_order(client) -> None:
    ada = await add_person(client)
    encoded = quote(json.dumps({"0": None, "1": None}))
    response = await client.get(
        f"/trpc/healthCheck,hasActivated?batch=1&input={encoded}", headers=ada.auth
    )
    assert response.status_code == 200
    assert response.json() == [
        {"result": {"data": "OK"}},
        {"result": {"data": {"activated": True}}},
    ]


async def test_unbatched_forms(client) -> None:
    ada = await add_person(client)
    single = await client.get("/trpc/me", headers=ada.auth)
    assert single.status_code == 200
    user = single.json()["result"]["data"]["user"]
    assert (user["id"], user["name"]) == (ada.id, "Ada")
    posted = await client.post("/trpc/completeOnboarding", headers=ada.auth, content=b"")
    assert posted.json() == {"result": {"data": {"activated": True}}}


async def test_protected_without_session(client) -> None:
    for path in ("me", "hasActivated", "vaults.listMine", "skills.list"):
        message = error_of(await query(client, path, {}), 401, "UNAUTHORIZED", path)
        assert message == "Authentication required"
    bad = await client.get(
        "/trpc/me?batch=1&input=%7B%7D", headers={"Authorization": "Bearer nope"}
    )
    assert error_of(bad, 401, "UNAUTHORIZED", "me") == "Authentication required"


async def test_mixed_batch_is_207(client) -> None:
    response = await client.get("/trpc/healthCheck,me?batch=1&input=%7B%7D")
    assert response.status_code == 207
    first, second = response.json()
    assert first == {"result": {"data": "OK"}}
    assert second["error"]["data"]["code"] == "UNAUTHORIZED"


async def test_input_validation_is_bad_request_sentence(client) -> None:
    ada = await add_person(client)
    response = await query(client, "skills.getById", {"id": 5}, ada)
    message = error_of(response, 400, "BAD_REQUEST", "skills.getById")
    assert message.startswith("Invalid input: id:")
    response = await query(client, "skills.list", {"limit": 0}, ada)
    assert "limit" in error_of(response, 400, "BAD_REQUEST", "skills.list")
    broken = await client.get("/trpc/skills.list?batch=1&input=%7Bnot-json", headers=ada.auth)
    assert broken.status_code == 400
    assert broken.json()[0]["error"]["data"]["code"] == "PARSE_ERROR"


async def test_unknown_procedure_and_wrong_method(client) -> None:
    ada = await add_person(client)
    missing = await query(client, "skills.nope", {}, ada)
    assert "skills.nope" in error_of(missing, 404, "NOT_FOUND", "skills.nope")
    wrong = await query(client, "skills.delete", {"id": "x"}, ada)
    error_of(wrong, 405, "METHOD_NOT_SUPPORTED", "skills.delete")
    wrong = await mutate(client, "skills.list", {}, ada)
    error_of(wrong, 405, "METHOD_NOT_SUPPORTED", "skills.list")


async def test_oversized_or_deeply_nested_body_is_refused(app_client) -> None:
    small = {"MAX_SKILL_BYTES": "1024", "MAX_FILE_BYTES": "1024", "MAX_SKILL_FILES": "1"}
    async with app_client(**small) as client:
        ada = await add_person(client)
        huge = b'{"0": {"id": "' + b"x" * 200_000 + b'"}}'
        response = await client.post("/trpc/skills.delete?batch=1", content=huge, headers=ada.auth)
        assert response.status_code == 413
        assert response.json()[0]["error"]["data"]["code"] == "PAYLOAD_TOO_LARGE"
        deep = "[" * 30_000 + "]" * 30_000
        response = await client.post("/trpc/skills.delete", content=deep, headers=ada.auth)
        assert response.status_code == 400
        assert response.json()["error"]["data"]["code"] == "PARSE_ERROR"


BAD_TEXT = ("\u0000", "\ud800")


async def test_nul_and_lone_surrogates_never_give_a_500(client) -> None:
    ada = await add_person(client)
    for bad in BAD_TEXT:
        calls = [
            ("skills.list", "GET", {"search": f"a{bad}"}),
            ("skills.getById", "GET", {"id": bad}),
            ("skills.getBySlug", "GET", {"slug": bad, "vaultSlug": bad}),
            ("skills.search", "GET", {"query": f"ab{bad}"}),
            ("skills.references", "GET", {"skillId": bad}),
            ("skills.getResourceByPath", "GET", {"skillSlug": bad, "resourcePath": bad}),
            ("vaults.setEnabled", "POST", {"vaultId": bad, "isEnabled": True}),
            (
                "skills.create",
                "POST",
                {
                    "slug": "s",
                    "name": f"n{bad}",
                    "description": bad,
                    "skillMarkdown": bad,
                    "resources": [{"path": f"references/{bad}.md", "content": bad}],
                },
            ),
        ]
        for path, method, data in calls:
            send = query if method == "GET" else mutate
            response = await send(client, path, data, ada)
            assert 400 <= response.status_code < 500, (path, bad, response.text[:300])
            assert response.json()[0]["error"]["data"]["path"] == path
