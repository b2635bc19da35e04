"""Every /api/v1/skills endpoint: status codes, shapes, ETags, the byte-exact round trip."""

from __future__ import annotations

import base64
import io
import tarfile
import uuid

import pytest
from sqlalchemy import select

from better_skills.server.models import audit_log
from tests.vault.support import (
    JSON,
    add_person,
    add_team_vault,
    assert_error,
    create,
    created,
    services_of,
    skill_md,
    uploads,
)

pytestmark = pytest.mark.anyio

#: A SKILL.md whose comments, key order, quoting and CRLF line ends must survive.
TRICKY_SKILL_MD = (
    b"---\r\n"
    b"# a YAML comment that must survive\r\n"
    b"description: 'Quoted: keeps its quotes'   # trailing comment\r\n"
    b"name: round-trip\r\n"
    b"metadata:\r\n"
    b"  zeta: 1\r\n"
    b"  alpha: [b, a]\r\n"
    b"---\r\n"
    b"Body with trailing spaces   \r\n\r\n\r\n"
)
BINARY = bytes(range(256)) * 4 + b"\x00\xff\xfe"
FOLDER = {
    "SKILL.md": TRICKY_SKILL_MD,
    "assets/logo.bin": BINARY,
    "references/notes.md": "Unicode: café ☕ — no newline at end".encode(),
    "scripts/run.sh": b"#!/bin/sh\necho hi\n",
}


async def test_create_answers_201_with_the_skill(client) -> None:
    ada = await add_person(client)
    response = await create(client, ada, FOLDER)
    assert response.status_code == 201, response.text
    skill = response.json()
    assert uuid.UUID(skill["id"])
    assert skill["slug"] == "round-trip"  # from the frontmatter name
    assert skill["name"] == "round-trip"
    assert skill["description"] == "Quoted: keeps its quotes"
    assert skill["frontmatter"] == {
        "description": "Quoted: keeps its quotes",
        "name": "round-trip",
        "metadata": {"zeta": 1, "alpha": ["b", "a"]},
    }
    assert skill["vault"]["slug"] == "personal" and skill["vault"]["type"] == "personal"
    assert skill["etag"] == f'"{skill["content_hash"]}"'
    assert response.headers["etag"] == skill["etag"]
    assert skill["file_count"] == 4
    assert skill["size"] == sum(len(d) for d in FOLDER.values())
    assert [(f["path"], f["kind"]) for f in skill["files"]] == [
        ("SKILL.md", "skill"),
        ("assets/logo.bin", "asset"),
        ("references/notes.md", "reference"),
        ("scripts/run.sh", "script"),
    ]
    assert all("content" not in f and "content_base64" not in f for f in skill["files"])
    assert skill["files"][0]["media_type"].startswith("text/markdown")
    assert skill["created_at"].endswith("Z") and skill["updated_at"] == skill["created_at"]


async def test_the_round_trip_is_byte_exact(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada, FOLDER)
    # ?content=1
    response = await client.get(f"/api/v1/skills/{skill['id']}?content=1", headers=ada.auth)
    assert response.status_code == 200
    back = {}
    for f in response.json()["files"]:
        if "content" in f:
            assert "content_base64" not in f
            back[f["path"]] = f["content"].encode("utf-8")
        else:
            back[f["path"]] = base64.b64decode(f["content_base64"])
    assert back == FOLDER
    # files/{path}
    for path, data in FOLDER.items():
        raw = await client.get(f"/api/v1/skills/{skill['id']}/files/{path}", headers=ada.auth)
        assert raw.status_code == 200, (path, raw.text)
        assert raw.content == data
        assert raw.headers["etag"].strip('"') == next(
            f["sha256"] for f in skill["files"] if f["path"] == path
        )
    raw = await client.get(f"/api/v1/skills/{skill['id']}/files/SKILL.md", headers=ada.auth)
    assert raw.headers["content-type"].startswith("text/markdown")
    raw = await client.get(f"/api/v1/skills/{skill['id']}/files/assets/logo.bin", headers=ada.auth)
    assert raw.headers["content-type"] == "application/octet-stream"
    # archive
    archive = await client.get(f"/api/v1/skills/{skill['id']}/archive", headers=ada.auth)
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        unpacked = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
        modes = {m.name: m.mode for m in tar.getmembers()}
    assert unpacked == FOLDER
    assert modes["scripts/run.sh"] == 0o755


async def test_get_sends_an_etag_and_if_none_match_gives_304(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada)
    url = f"/api/v1/skills/{skill['id']}"
    first = await client.get(url, headers=ada.auth)
    assert first.headers["etag"] == skill["etag"]
    again = await client.get(url, headers={**ada.auth, "If-None-Match": skill["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = await client.get(url, headers={**ada.auth, "If-None-Match": '"0000"'})
    assert stale.status_code == 200
    file_url = f"{url}/files/SKILL.md"
    etag = (await client.get(file_url, headers=ada.auth)).headers["etag"]
    cached = await client.get(file_url, headers={**ada.auth, "If-None-Match": etag})
    assert cached.status_code == 304


async def test_unknown_ids_paths_and_malformed_ids_are_404(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada)
    missing = str(uuid.uuid4())
    for path in (
        f"/api/v1/skills/{missing}",
        "/api/v1/skills/not-a-uuid",
        f"/api/v1/skills/{missing}/files/SKILL.md",
        f"/api/v1/skills/{skill['id']}/files/nope.md",
        f"/api/v1/skills/{missing}/archive",
        f"/api/v1/skills/{missing}/references",
        "/api/v1/skills/by-slug/nothing-here",
    ):
        assert_error(await client.get(path, headers=ada.auth), 404, "not_found")
    put = await client.put(
        f"/api/v1/skills/{missing}",
        json={"files": uploads({"SKILL.md": skill_md()})},
        headers=ada.auth,
    )
    assert_error(put, 404, "not_found")
    assert_error(
        await client.delete(f"/api/v1/skills/{missing}", headers=ada.auth), 404, "not_found"
    )


async def test_by_slug_finds_one_and_409_lists_the_candidates(client) -> None:
    ada = await add_person(client)
    await add_team_vault(client, "acme", {ada.id: "owner"})
    mine = await created(client, ada, slug="shared-name")
    response = await client.get("/api/v1/skills/by-slug/shared-name", headers=ada.auth)
    assert response.status_code == 200 and response.json()["id"] == mine["id"]
    team = await created(client, ada, vault="acme", slug="shared-name")
    ambiguous = await client.get("/api/v1/skills/by-slug/shared-name", headers=ada.auth)
    body = assert_error(ambiguous, 409, "conflict")
    assert [d["path"] for d in body["details"]] == ["acme/shared-name", "personal/shared-name"]
    for vault, expected in (("acme", team["id"]), ("personal", mine["id"])):
        one = await client.get(
            f"/api/v1/skills/by-slug/shared-name?vault={vault}&content=1", headers=ada.auth
        )
        assert one.status_code == 200 and one.json()["id"] == expected
        assert "content" in one.json()["files"][0]
    wrong = await client.get("/api/v1/skills/by-slug/shared-name?vault=nope", headers=ada.auth)
    assert_error(wrong, 404, "not_found")


async def test_list_filters_and_pages(client) -> None:
    ada = await add_person(client)
    clock = services_of(client).clock
    made = []
    for index in range(7):
        clock.advance(1)
        name = f"alpha-{index}" if index % 2 else f"beta-{index}"
        made.append(
            await created(
                client,
                ada,
                {"SKILL.md": skill_md(name, "100%_done" if index == 0 else "100x-done")},
            )
        )
    seen, cursor = [], None
    while True:
        url = "/api/v1/skills?vault=personal&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=ada.auth)).json()
        seen += [item["slug"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [s["slug"] for s in reversed(made)]  # newest first, nothing twice
    everything = (await client.get("/api/v1/skills?limit=100", headers=ada.auth)).json()
    assert "better-skills" in [i["slug"] for i in everything["items"]]  # the system vault's
    assert everything["next_cursor"] is None
    alpha = (await client.get("/api/v1/skills?q=ALPHA", headers=ada.auth)).json()["items"]
    assert sorted(i["slug"] for i in alpha) == ["alpha-1", "alpha-3", "alpha-5"]
    # % and _ are literal; description matches too.
    for query, expected in (("100%25", ["beta-0"]), ("0x_done", []), ("%25%25", [])):
        found = (await client.get(f"/api/v1/skills?q={query}", headers=ada.auth)).json()
        assert [i["slug"] for i in found["items"]] == expected, query
    summary = alpha[0]
    assert set(summary) == {
        "id",
        "vault",
        "slug",
        "name",
        "description",
        "content_hash",
        "etag",
        "file_count",
        "size",
        "created_at",
        "updated_at",
    }


async def test_list_refuses_bad_parameters(client) -> None:
    ada = await add_person(client)
    for query in ("limit=0", "limit=101", "limit=x", "cursor=%%%", "cursor=bm9wZQ"):
        assert_error(
            await client.get(f"/api/v1/skills?{query}", headers=ada.auth), 400, "invalid_request"
        )
    assert_error(await client.get("/api/v1/skills?vault=nope", headers=ada.auth), 404, "not_found")


async def test_put_replaces_the_whole_file_set(client) -> None:
    ada = await add_person(client)
    clock = services_of(client).clock
    skill = await created(client, ada, FOLDER)
    clock.advance(5)
    new = {"SKILL.md": TRICKY_SKILL_MD, "references/new.md": b"new file\n"}
    response = await client.put(
        f"/api/v1/skills/{skill['id']}",
        json={"files": uploads(new), "slug": "renamed"},
        headers={**ada.auth, "If-Match": skill["etag"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [f["path"] for f in body["files"]] == ["SKILL.md", "references/new.md"]
    assert body["slug"] == "renamed"
    assert body["content_hash"] != skill["content_hash"]
    assert body["updated_at"] > skill["updated_at"]
    assert body["created_at"] == skill["created_at"]
    gone = await client.get(f"/api/v1/skills/{skill['id']}/files/scripts/run.sh", headers=ada.auth)
    assert_error(gone, 404, "not_found")
    # A file-only change changes the hash and updated_at too.
    clock.advance(5)
    again = await client.put(
        f"/api/v1/skills/{skill['id']}",
        json={"files": uploads({**new, "references/new.md": b"changed\n"})},
        headers=ada.auth,
    )
    assert again.json()["content_hash"] != body["content_hash"]
    assert again.json()["updated_at"] > body["updated_at"]
    assert again.json()["slug"] == "renamed"  # kept when not sent


async def test_stale_if_match_gets_412_and_changes_nothing(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada)
    url = f"/api/v1/skills/{skill['id']}"
    files = {"files": uploads({"SKILL.md": skill_md(body="v2\n")})}
    first = await client.put(url, json=files, headers={**ada.auth, "If-Match": skill["etag"]})
    assert first.status_code == 200
    stale = await client.put(
        url,
        json={"files": uploads({"SKILL.md": skill_md(body="v3\n")})},
        headers={**ada.auth, "If-Match": skill["etag"]},
    )
    assert_error(stale, 412, "precondition_failed")
    current = (await client.get(url, headers=ada.auth)).json()
    assert current["content_hash"] == first.json()["content_hash"]
    stale_delete = await client.delete(url, headers={**ada.auth, "If-Match": skill["etag"]})
    assert_error(stale_delete, 412, "precondition_failed")
    star = await client.put(url, json=files, headers={**ada.auth, "If-Match": "*"})
    assert star.status_code == 200


async def test_delete_answers_204_and_the_skill_is_gone(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada)
    url = f"/api/v1/skills/{skill['id']}"
    response = await client.delete(url, headers={**ada.auth, "If-Match": skill["etag"]})
    assert response.status_code == 204 and response.content == b""
    assert_error(await client.get(url, headers=ada.auth), 404, "not_found")
    assert_error(await client.delete(url, headers=ada.auth), 404, "not_found")


async def test_every_write_is_audited(client) -> None:
    ada = await add_person(client)
    await add_team_vault(client, "acme", {ada.id: "owner"})
    skill = await created(client, ada)
    url = f"/api/v1/skills/{skill['id']}"
    files = uploads({"SKILL.md": skill_md()})
    assert (await client.put(url, json={"files": files}, headers=ada.auth)).status_code == 200
    moved = await client.put(url, json={"files": files, "vault": "acme"}, headers=ada.auth)
    assert moved.status_code == 200
    assert (await client.delete(url, headers=ada.auth)).status_code == 204
    async with services_of(client).db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(audit_log.c.event, audit_log.c.user_id, audit_log.c.detail).where(
                    audit_log.c.event.like("skill_%"), audit_log.c.user_id == ada.id
                )
            )
        ).all()
    events = [row.event for row in rows]
    assert events == ["skill_create", "skill_update", "skill_update", "skill_move", "skill_delete"]
    assert all(skill["id"] in row.detail for row in rows)


async def test_create_refuses_malformed_bodies(client) -> None:
    ada = await add_person(client)
    for body in (
        {},
        {"files": "SKILL.md"},
        {"files": [{"content": "x"}]},
        {"files": [{"path": "SKILL.md", "content": 5}]},
        {"files": [], "unknown": 1},
    ):
        response = await client.post("/api/v1/skills", json=body, headers=ada.auth)
        assert_error(response, 400, "invalid_request")
    response = await client.post(
        "/api/v1/skills", content=b"not json", headers={**ada.auth, **JSON}
    )
    assert_error(response, 400, "invalid_request")
    response = await client.post(
        "/api/v1/skills",
        content=b"files=x",
        headers={**ada.auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "unsupported_media_type")


async def test_create_into_a_named_vault_and_a_missing_one(client) -> None:
    ada = await add_person(client)
    team_id = await add_team_vault(client, "acme", {ada.id: "owner"})
    by_slug = await created(client, ada, vault="acme")
    assert by_slug["vault"] == {"id": team_id, "slug": "acme", "name": "Acme", "type": "team"}
    by_id = await created(client, ada, vault=team_id, slug="other")
    assert by_id["vault"]["id"] == team_id
    assert_error(await create(client, ada, vault="nope"), 404, "not_found")
