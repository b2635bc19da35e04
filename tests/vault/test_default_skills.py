"""The shipped ``better-skills`` skill: in the system vault from the first start, mentions
resolved, re-seeded only when its content changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from better_skills.server.services.default_skills import DEFAULT_SKILLS_DIR, seed_default_skills
from tests.vault.support import add_person, assert_error, services_of, skill_md, uploads

pytestmark = pytest.mark.anyio


async def _shipped(client, who) -> dict:
    response = await client.get(
        "/api/v1/skills/by-slug/better-skills?vault=system-default&content=1", headers=who.auth
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_default_skill_is_in_the_system_vault(client) -> None:
    ada = await add_person(client)
    skill = await _shipped(client, ada)
    assert skill["vault"]["slug"] == "system-default"
    assert skill["name"] == "better-skills"
    paths = [f["path"] for f in skill["files"]]
    assert "SKILL.md" in paths and all(
        p == "SKILL.md" or p.startswith("references/") for p in paths
    )
    text = next(f["content"] for f in skill["files"] if f["path"] == "SKILL.md")
    assert "[[resource:new:" not in text  # drafts resolved when seeded
    for f in skill["files"]:
        if f["path"] != "SKILL.md":
            assert f"[[resource:{f['id']}]]" in text, f["path"]  # every reference is mentioned
    # Read-only, even for its readers.
    response = await client.put(
        f"/api/v1/skills/{skill['id']}",
        json={"files": uploads({"SKILL.md": skill_md()})},
        headers=ada.auth,
    )
    assert_error(response, 403, "forbidden")
    # It renders into links an agent can follow.
    bundle = await client.post("/api/v1/sync/bundle", json={"ids": [skill["id"]]}, headers=ada.auth)
    rendered = next(
        f["content"] for f in bundle.json()["items"][0]["files"] if f["path"] == "SKILL.md"
    )
    assert "[references/commands.md](references/commands.md)" in rendered
    assert "[[resource:" not in rendered


async def test_seeding_is_idempotent_and_follows_changes(client, tmp_path: Path) -> None:
    services = services_of(client)
    ada = await add_person(client)
    before = await _shipped(client, ada)
    assert await seed_default_skills(services) == {"better-skills": "unchanged"}
    assert (await _shipped(client, ada))["content_hash"] == before["content_hash"]
    root = tmp_path / "defaults"
    shutil.copytree(DEFAULT_SKILLS_DIR, root)
    (root / "better-skills" / "references" / "sync.md").write_text("Changed.\n")
    (root / "another").mkdir()
    (root / "another" / "SKILL.md").write_bytes(skill_md("another"))
    services.clock.advance(10)
    assert await seed_default_skills(services, root) == {
        "another": "created",
        "better-skills": "updated",
    }
    after = await _shipped(client, ada)
    assert after["content_hash"] != before["content_hash"]
    assert after["id"] == before["id"]
    assert [(f["id"], f["path"]) for f in after["files"]] == [
        (f["id"], f["path"]) for f in before["files"]
    ]  # file ids are stable, so mentions of them stay valid
    sync_md = next(f for f in after["files"] if f["path"] == "references/sync.md")
    assert sync_md["content"] == "Changed.\n"
    assert after["updated_at"] > before["updated_at"]
    assert await seed_default_skills(services, root) == {
        "another": "unchanged",
        "better-skills": "unchanged",
    }
