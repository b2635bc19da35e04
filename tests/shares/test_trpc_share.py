"""``skills.getShareInstallPackage`` (original-system.md §8.2) in the batched form the original
CLI sends: public, the §2 shape field by field, rendered with links."""

from __future__ import annotations

import re
import uuid

import pytest

from better_skills.protocol.shares import share_install_key
from tests.shares.test_shares_api import linked_pair, share
from tests.trpc.support import data_of, error_of, query
from tests.vault.support import add_person

pytestmark = pytest.mark.anyio

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PATH = "skills.getShareInstallPackage"


async def test_the_install_package(client) -> None:
    ada = await add_person(client)
    main, helper = await linked_pair(client, ada)
    made = await share(client, ada, main["id"])
    package = data_of(await query(client, PATH, {"shareId": made["id"]}))  # no credentials
    assert set(package) == {"shareId", "rootSkillId", "createdAt", "includedSkills", "skills"}
    assert package["shareId"] == made["id"] and package["rootSkillId"] == main["id"]
    assert ISO.match(package["createdAt"])
    assert package["includedSkills"] == [
        {"id": main["id"], "slug": "main", "name": "main"},
        {"id": helper["id"], "slug": "helper", "name": "helper"},
    ]
    first, second = package["skills"]
    assert set(first) == {
        "id", "slug", "name", "description", "frontmatter", "originalMarkdown",
        "renderedMarkdown", "sourceUrl", "sourceIdentifier", "resources",
    }  # fmt: skip
    assert first["frontmatter"] == {"name": "main", "description": "The main skill."}
    assert first["originalMarkdown"].startswith("# Main\nUse [[skill:")
    key = share_install_key(made["id"], "helper")
    assert first["renderedMarkdown"] == (
        f"# Main\nUse [helper](../{key}/SKILL.md) and "
        f"[helper: references/notes.md](../{key}/references/notes.md).\n"
    )
    assert (first["sourceUrl"], first["sourceIdentifier"], first["resources"]) == (None, None, [])
    # The binary logo has no text form: left out.
    assert second["resources"] == [
        {"path": "references/notes.md", "kind": "reference", "renderedContent": "notes\n"}
    ]


async def test_unknown_revoked_and_malformed(client) -> None:
    ada = await add_person(client)
    made = await share(client, ada, (await linked_pair(client, ada))[1]["id"])
    await client.delete(f"/api/v1/shares/{made['id']}", headers=ada.auth)
    for share_id in (made["id"], str(uuid.uuid4()), "nope"):
        message = error_of(await query(client, PATH, {"shareId": share_id}), 404, "NOT_FOUND", PATH)
        assert message == "Shared skill not found"
    error_of(await query(client, PATH, {}), 400, "BAD_REQUEST", PATH)
    error_of(await query(client, PATH, {"shareId": 5}), 400, "BAD_REQUEST", PATH)
