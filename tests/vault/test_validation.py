"""The rules a write must pass: 400 validation_failed listing every problem, nothing stored;
409 for a taken slug; 413 for a body above the cap."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from better_skills.server.models import skill_files, skills
from tests.vault.support import (
    JSON,
    add_person,
    assert_error,
    create,
    created,
    services_of,
    skill_md,
    uploads,
)

pytestmark = pytest.mark.anyio


async def stored_counts(client) -> tuple[int, int]:
    async with services_of(client).db.engine.connect() as conn:
        n_skills = (await conn.execute(select(func.count()).select_from(skills))).scalar_one()
        n_files = (await conn.execute(select(func.count()).select_from(skill_files))).scalar_one()
    return n_skills, n_files


def refused(response, *codes: str) -> list[dict]:
    body = assert_error(response, 400, "validation_failed")
    details = body["details"]
    assert details and all(isinstance(d["message"], str) and d["message"] for d in details)
    found = {d.get("code") for d in details}
    assert set(codes) <= found, (codes, details)
    return details


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"README.md": b"no skill md"}, "missing_skill_md"),
        ({"SKILL.md": b"# no frontmatter\n"}, "invalid_frontmatter"),
        ({"SKILL.md": b"---\nname: [unclosed\n---\n"}, "invalid_frontmatter"),
        ({"SKILL.md": b"---\n- a list\n---\n"}, "invalid_frontmatter"),
        ({"SKILL.md": skill_md(name="''")}, "invalid_name"),
        ({"SKILL.md": skill_md(name="n" * 65)}, "invalid_name"),
        ({"SKILL.md": b"---\ndescription: d\n---\n"}, "invalid_name"),
        ({"SKILL.md": skill_md(description="d" * 1025)}, "invalid_description"),
        ({"SKILL.md": skill_md(description="'  '")}, "invalid_description"),
        ({"SKILL.md": skill_md(extra=f"compatibility: {'c' * 501}\n")}, "invalid_compatibility"),
        ({"SKILL.md": b"\xff\xfe not text"}, "skill_md_not_text"),
    ],
)
async def test_skill_md_rules(client, files, code) -> None:
    ada = await add_person(client)
    refused(await create(client, ada, files), code)
    assert await stored_counts(client) == (1, 5)  # only the shipped default skill


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../escape.md",
        "a/../b.md",
        "./a.md",
        "a//b.md",
        "a\\b.md",
        ".hidden",
        "references/.secret",
        "tab\there.md",
        "nul\x00.md",
        "é" * 128 + ".md",  # 256 + 3 bytes
        "/".join(["d"] * 11) + ".md",
        "",
    ],
)
async def test_path_rules(client, path) -> None:
    ada = await add_person(client)
    response = await create(client, ada, {"SKILL.md": skill_md(), path: b"x"})
    if response.status_code == 400 and response.json()["error"] == "invalid_request":
        return  # refused while parsing (a NUL in JSON text is fine, but not every client's)
    refused(response, "invalid_path")
    assert await stored_counts(client) == (1, 5)


async def test_paths_equal_after_nfc_are_refused(client) -> None:
    ada = await add_person(client)
    nfc, nfd = "caf\u00e9.md", "cafe\u0301.md"
    response = await create(client, ada, {"SKILL.md": skill_md(), nfc: b"1", nfd: b"2"})
    refused(response, "duplicate_path")


async def test_the_same_path_twice_is_refused(client) -> None:
    ada = await add_person(client)
    body = {"files": uploads({"SKILL.md": skill_md()}) * 2}
    response = await client.post("/api/v1/skills", json=body, headers=ada.auth)
    details = refused(response)
    assert details[0]["path"] == "SKILL.md"


async def test_content_and_base64_rules(client) -> None:
    ada = await add_person(client)
    body = {
        "files": [
            *uploads({"SKILL.md": skill_md()}),
            {"path": "a.bin", "content_base64": "***not base64***"},
            {"path": "b.md"},
            {"path": "c.md", "content": "x", "content_base64": "eA=="},
        ]
    }
    details = refused(await client.post("/api/v1/skills", json=body, headers=ada.auth))
    assert sorted(d["path"] for d in details) == ["a.bin", "b.md", "c.md"]


async def test_every_problem_is_listed_at_once(client) -> None:
    ada = await add_person(client)
    files = {
        "SKILL.md": skill_md(name="n" * 65, body="see [[skill:not-a-uuid]]\n"),
        "../x.md": b"x",
        "ref.md": b"[[resource:new:missing.md]]",
    }
    details = refused(
        await create(client, ada, files),
        "invalid_name",
        "invalid_path",
        "invalid_mention",
        "missing_draft_target",
    )
    mention = next(d for d in details if d.get("code") == "invalid_mention")
    assert mention["path"] == "SKILL.md" and mention["line"] == 5


async def test_sizes_counts_and_the_body_cap(app_client) -> None:
    limits = {"MAX_FILE_BYTES": "1000", "MAX_SKILL_BYTES": "3000", "MAX_SKILL_FILES": "4"}
    async with app_client(**limits) as client:
        ada = await add_person(client)
        base = {"SKILL.md": skill_md()}
        refused(await create(client, ada, {**base, "big.bin": b"x" * 1001}), "file_too_large")
        assert (await create(client, ada, {**base, "ok.bin": b"x" * 1000})).status_code == 201
        many = {**base, **{f"f{i}.md": b"x" for i in range(4)}}
        refused(await create(client, ada, many, slug="many"), "too_many_files")
        total = {**base, **{f"f{i}.bin": b"x" * 990 for i in range(3)}}
        refused(await create(client, ada, total, slug="total"), "skill_too_large")
        # Above the body cap (2 x 3000 + 4 x 1024 + 64 KiB): 413 before the body is read.
        huge = "A" * 80_000
        body = {"files": [{"path": "SKILL.md", "content": huge}]}
        response = await client.post("/api/v1/skills", json=body, headers=ada.auth)
        assert_error(response, 413, "payload_too_large")

        async def chunks():
            for _ in range(100):
                yield b" " * 1000  # no Content-Length: counted as it arrives

        response = await client.post(
            "/api/v1/skills", content=chunks(), headers={**ada.auth, **JSON}
        )
        assert_error(response, 413, "payload_too_large")
        assert await stored_counts(client) == (2, 7)


async def test_a_taken_slug_is_409(client) -> None:
    ada = await add_person(client)
    first = await created(client, ada)
    body = assert_error(await create(client, ada), 409, "conflict")
    assert body["details"] == [{"path": "personal/demo-skill", "message": "This slug is taken."}]
    other = await created(client, ada, {"SKILL.md": skill_md("other")})
    # Renaming onto a taken slug is refused too.
    response = await client.put(
        f"/api/v1/skills/{other['id']}",
        json={"files": uploads({"SKILL.md": skill_md("other")}), "slug": first["slug"]},
        headers=ada.auth,
    )
    assert_error(response, 409, "conflict")


async def test_bad_slugs_are_refused(client) -> None:
    ada = await add_person(client)
    for slug in ("Upper", "has space", "x" * 65, "", "a/b"):
        details = refused(await create(client, ada, slug=slug))
        assert details[0]["path"] == "slug"


async def test_the_default_slug_is_the_name_made_url_safe(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada, {"SKILL.md": skill_md("My Great Skill!")})
    assert skill["slug"] == "my-great-skill"
    assert skill["name"] == "My Great Skill!"


async def test_binary_content_in_base64_is_stored_exactly(client) -> None:
    ada = await add_person(client)
    data = b"\x00\x01\xff" * 10
    body = {
        "files": [
            *uploads({"SKILL.md": skill_md()}),
            {"path": "assets/x.bin", "content_base64": base64.b64encode(data).decode()},
        ]
    }
    response = await client.post("/api/v1/skills", json=body, headers=ada.auth)
    assert response.status_code == 201
    skill_id = response.json()["id"]
    raw = await client.get(f"/api/v1/skills/{skill_id}/files/assets/x.bin", headers=ada.auth)
    assert raw.content == data
