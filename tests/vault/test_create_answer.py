"""The answer to ``POST /api/v1/skills`` is built from what the create wrote, not read back:
it must be exactly what ``GET /api/v1/skills/{id}`` then answers (both backends)."""

from __future__ import annotations

import httpx
import pytest

from tests.vault.support import add_person, add_team_vault, create, created, skill_md

pytestmark = pytest.mark.anyio


async def test_the_create_answer_is_the_read(client: httpx.AsyncClient) -> None:
    ada = await add_person(client)
    team = await add_team_vault(client, "crew", {ada.id: "owner"})
    extra = "license: MIT\nreleased: 2024-01-02\ntags: [a, b]\nnested: {k: 1, f: 1.5}\n"
    for n, vault in enumerate((None, "crew", team)):
        fields = {} if vault is None else {"vault": vault}
        # A mention of another skill of the same vault, and a draft of a file of this one.
        other = await created(client, ada, {"SKILL.md": skill_md(f"target-{n}")}, **fields)
        files = {
            "SKILL.md": skill_md(
                "Mixed Case Skill",
                "Ünïcode déscription.",
                body=f"See [[resource:new:references/b.md]] and [[skill:{other['id']}]].\n",
                extra=extra,
            ),
            "references/b.md": b"# B\n",
            "references/A.md": b"# A\n",
            "Zed.txt": b"upper case first in code point order\n",
            "assets/logo.bin": b"\x00\xff\x10binary",
            "scripts/run.sh": b"#!/bin/sh\n",
        }
        fields["slug"] = f"mixed-{n}"
        answer = await create(client, ada, files, **fields)
        assert answer.status_code == 201, answer.text
        made = answer.json()
        read = await client.get(f"/api/v1/skills/{made['id']}", headers=ada.auth)
        assert read.status_code == 200
        assert made == read.json()
        assert answer.headers["etag"] == read.headers["etag"]
        assert [f["path"] for f in made["files"]] == sorted(files)
        assert made["frontmatter"]["released"] == "2024-01-02"
