"""Mentions: same-vault targets, drafts resolved in the write, links rebuilt with it,
references, and rendering as relative links in sync bundles."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from better_skills.server.models import skill_links
from better_skills.skillfmt import hashing
from tests.vault.support import (
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


async def contents(client, who, skill_id: str) -> dict[str, str]:
    response = await client.get(f"/api/v1/skills/{skill_id}?content=1", headers=who.auth)
    return {f["path"]: f["content"] for f in response.json()["files"]}


def file_id(skill: dict, path: str) -> str:
    return next(f["id"] for f in skill["files"] if f["path"] == path)


async def links_of(client, skill_id: str) -> list[tuple]:
    async with services_of(client).db.engine.connect() as conn:
        rows = await conn.execute(
            select(
                skill_links.c.source_file_id,
                skill_links.c.target_skill_id,
                skill_links.c.target_file_id,
            ).where(skill_links.c.source_skill_id == skill_id)
        )
        return sorted((tuple(row) for row in rows), key=lambda r: tuple(v or "" for v in r))


async def test_drafts_are_resolved_in_the_same_write(client) -> None:
    ada = await add_person(client)
    files = {
        "SKILL.md": skill_md(body="Read [[resource:new:references/a.md]] first.\n"),
        "references/a.md": b"Then [[resource:new:./references/b.md#part]].\n",
        "references/b.md": b"The end.\n",
    }
    skill = await created(client, ada, files)
    a, b = file_id(skill, "references/a.md"), file_id(skill, "references/b.md")
    stored = await contents(client, ada, skill["id"])
    assert stored["SKILL.md"] == skill_md(body=f"Read [[resource:{a}]] first.\n").decode()
    assert stored["references/a.md"] == f"Then [[resource:{b}]].\n"
    assert stored["references/b.md"] == "The end.\n"
    # The content hash is of what is stored (the resolved text).
    expected = hashing.content_hash(
        (path, hashing.file_sha256(text.encode())) for path, text in stored.items()
    )
    assert skill["content_hash"] == expected
    skill_md_id = file_id(skill, "SKILL.md")
    assert await links_of(client, skill["id"]) == sorted(
        [(skill_md_id, skill["id"], a), (a, skill["id"], b)]
    )
    # Updating keeps file ids (mentions of them stay valid) and rebuilds the links.
    response = await client.put(
        f"/api/v1/skills/{skill['id']}",
        json={
            "files": uploads(
                {
                    **{k: v.encode() for k, v in stored.items()},
                    "SKILL.md": skill_md(body="No mentions now.\n"),
                }
            )
        },
        headers=ada.auth,
    )
    assert response.status_code == 200, response.text
    assert file_id(response.json(), "references/a.md") == a
    assert await links_of(client, skill["id"]) == [(a, skill["id"], b)]


async def test_mentions_must_name_a_skill_or_file_of_the_same_vault(client) -> None:
    ada = await add_person(client)
    bob = await add_person(client, "Bob")
    await add_team_vault(client, "acme", {ada.id: "owner"})
    target = await created(client, ada, {"SKILL.md": skill_md("target"), "references/t.md": b"t"})
    in_team = await created(client, ada, {"SKILL.md": skill_md("team-skill")}, vault="acme")
    bobs = await created(client, bob, {"SKILL.md": skill_md("bobs")})
    system = (await client.get("/api/v1/skills?vault=system-default", headers=ada.auth)).json()
    system_id = system["items"][0]["id"]
    ok_body = (
        f"[[skill:{target['id']}]] and [[RESOURCE:{file_id(target, 'references/t.md').upper()}]]\n"
    )
    ok = await created(client, ada, {"SKILL.md": skill_md("ok", body=ok_body)})
    assert len(await links_of(client, ok["id"])) == 2
    for bad in (in_team["id"], bobs["id"], system_id, str(uuid.uuid4())):
        response = await create(
            client, ada, {"SKILL.md": skill_md("bad", body=f"x\n[[skill:{bad}]]\n")}
        )
        body = assert_error(response, 400, "validation_failed")
        assert body["details"] == [
            {
                "path": "SKILL.md",
                "line": 6,
                "code": "mention_target",
                "message": f"Invalid mention target: [[skill:{bad}]] is not a skill or file "
                "of this vault.",
            }
        ]
    response = await create(
        client,
        ada,
        {"SKILL.md": skill_md("bad"), "r.md": f"[[resource:{uuid.uuid4()}]]".encode()},
    )
    assert assert_error(response, 400, "validation_failed")["details"][0]["path"] == "r.md"


async def test_code_and_escapes_are_text_not_mentions(client) -> None:
    ada = await add_person(client)
    ghost = str(uuid.uuid4())
    body = (
        f"Inline `[[skill:{ghost}]]` code.\n\n```\n[[skill:{ghost}]]\n```\n\n"
        f"Escaped \\[[skill:{ghost}]].\n"
    )
    skill = await created(client, ada, {"SKILL.md": skill_md(body=body)})
    assert await links_of(client, skill["id"]) == []


async def test_a_file_dropped_by_an_update_is_no_mention_target(client) -> None:
    ada = await add_person(client)
    skill = await created(
        client,
        ada,
        {
            "SKILL.md": skill_md(body="[[resource:new:references/a.md]]\n"),
            "references/a.md": b"a",
        },
    )
    stored = await contents(client, ada, skill["id"])
    response = await client.put(
        f"/api/v1/skills/{skill['id']}",
        json={"files": uploads({"SKILL.md": stored["SKILL.md"].encode()})},
        headers=ada.auth,
    )
    assert assert_error(response, 400, "validation_failed")["details"][0]["code"] == (
        "mention_target"
    )


async def test_references_lists_the_mentioning_skills(client) -> None:
    ada = await add_person(client)
    target = await created(client, ada, {"SKILL.md": skill_md("target"), "references/t.md": b"t"})
    t_file = file_id(target, "references/t.md")
    one = await created(
        client, ada, {"SKILL.md": skill_md("one", body=f"[[skill:{target['id']}]]")}
    )
    two = await created(
        client,
        ada,
        {
            "SKILL.md": skill_md("two"),
            "references/x.md": f"[[resource:{t_file}]]".encode(),
        },
    )
    # A self-mention is not a reference.
    await client.put(
        f"/api/v1/skills/{target['id']}",
        json={
            "files": uploads(
                {
                    "SKILL.md": skill_md("target", body=f"[[resource:{t_file}]]"),
                    "references/t.md": b"t",
                }
            )
        },
        headers=ada.auth,
    )
    response = await client.get(f"/api/v1/skills/{target['id']}/references", headers=ada.auth)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["skill"]["id"], i["via_path"]) for i in items] == [
        (one["id"], "SKILL.md"),
        (two["id"], "references/x.md"),
    ]
    assert items[0]["skill"]["slug"] == "one"


async def test_bundle_renders_mentions_as_relative_links_in_the_store(client) -> None:
    ada = await add_person(client)
    other = await created(
        client, ada, {"SKILL.md": skill_md("Other Skill"), "references/x.md": b"x"}
    )
    x = file_id(other, "references/x.md")
    doomed = await created(client, ada, {"SKILL.md": skill_md("doomed")})
    body = (
        "Own: [[resource:new:references/api.md]].\n"
        f"Skill: [[skill:{other['id']}]].\n"
        f"File: [[resource:{x}]].\n"
        f"Gone: [[skill:{doomed['id']}]].\n"
        f"Literal: \\[[skill:{other['id']}]] and `[[skill:{other['id']}]]`.\n"
    )
    main = await created(
        client,
        ada,
        {
            "SKILL.md": skill_md("main", body=body),
            "references/api.md": f"Back to [[skill:{other['id']}]].\n".encode(),
            "assets/blob.bin": b"\x00\x01",
        },
    )
    assert (
        await client.delete(f"/api/v1/skills/{doomed['id']}", headers=ada.auth)
    ).status_code == 204
    response = await client.post(
        "/api/v1/sync/bundle",
        json={"ids": [main["id"], str(uuid.uuid4()), "junk"]},
        headers=ada.auth,
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["id"] for i in items] == [main["id"]]
    assert items[0]["content_hash"] == main["content_hash"]
    files = {f["path"]: f for f in items[0]["files"]}
    assert files["assets/blob.bin"] == {"path": "assets/blob.bin", "content_base64": "AAE="}
    rendered = files["SKILL.md"]["content"]
    assert (
        rendered
        == skill_md(
            "main",
            body=(
                "Own: [references/api.md](references/api.md).\n"
                "Skill: [Other Skill](../personal--other-skill/SKILL.md).\n"
                "File: [Other Skill: references/x.md](../personal--other-skill/references/x.md).\n"
                "Gone: `(unknown skill)`.\n"
                f"Literal: [[skill:{other['id']}]] and `[[skill:{other['id']}]]`.\n"
            ),
        ).decode()
    )
    assert files["references/api.md"]["content"] == (
        "Back to [Other Skill](../../personal--other-skill/SKILL.md).\n"
    )


async def test_bundle_leaves_out_what_the_caller_cannot_read(client) -> None:
    ada = await add_person(client)
    bob = await add_person(client, "Bob")
    bobs = await created(client, bob)
    response = await client.post(
        "/api/v1/sync/bundle", json={"ids": [bobs["id"]]}, headers=ada.auth
    )
    assert response.json() == {"items": []}
    too_many = [str(uuid.uuid4()) for _ in range(201)]
    response = await client.post("/api/v1/sync/bundle", json={"ids": too_many}, headers=ada.auth)
    assert_error(response, 400, "invalid_request")
    response = await client.post(
        "/api/v1/sync/bundle", json={"ids": too_many[:200]}, headers=ada.auth
    )
    assert response.status_code == 200


async def test_a_bundle_above_its_byte_cap_asks_for_fewer(client, monkeypatch) -> None:
    from better_skills.server.services.skills import records as skills_records

    ada = await add_person(client)
    one = await created(client, ada, {"SKILL.md": skill_md("one"), "a.bin": b"\x00" * 600})
    two = await created(client, ada, {"SKILL.md": skill_md("two"), "a.bin": b"\x00" * 600})
    monkeypatch.setattr(skills_records, "MAX_BUNDLE_BYTES", 1000)
    both = await client.post(
        "/api/v1/sync/bundle", json={"ids": [one["id"], two["id"]]}, headers=ada.auth
    )
    assert_error(both, 413, "payload_too_large")
    alone = await client.post("/api/v1/sync/bundle", json={"ids": [one["id"]]}, headers=ada.auth)
    assert alone.status_code == 200 and len(alone.json()["items"]) == 1
