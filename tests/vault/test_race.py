"""Two writers with the same If-Match: exactly one wins, the other gets 412."""

from __future__ import annotations

import asyncio

import pytest

from tests.vault.support import add_person, created, skill_md, uploads

pytestmark = pytest.mark.anyio


async def test_two_concurrent_puts_with_the_same_if_match(client) -> None:
    ada = await add_person(client)
    for round_ in range(5):
        skill = await created(client, ada, {"SKILL.md": skill_md(f"race-{round_}")})
        url = f"/api/v1/skills/{skill['id']}"

        async def put(body: str, skill=skill, url=url):
            return await client.put(
                url,
                json={"files": uploads({"SKILL.md": skill_md(skill["name"], body=body)})},
                headers={**ada.auth, "If-Match": skill["etag"]},
            )

        first, second = await asyncio.gather(put("writer one\n"), put("writer two\n"))
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 412], (first.text, second.text)
        winner = first if first.status_code == 200 else second
        loser = second if winner is first else first
        assert loser.json()["error"] == "precondition_failed"
        stored = await client.get(url, headers=ada.auth)
        assert stored.json()["content_hash"] == winner.json()["content_hash"]
