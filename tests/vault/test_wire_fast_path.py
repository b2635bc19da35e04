"""The hot paths build their JSON as plain data, not through the response models: the bytes
must stay those the models would give (api.md's contract), and the manifest's cache must
only ever answer with what a fresh read would."""

from __future__ import annotations

import json

import pytest

from better_skills.server.routers.api_v1.sync import ManifestCache
from better_skills.server.schemas import ManifestItemOut, ManifestOut, SkillPageOut, SkillSummaryOut
from better_skills.server.services.skills import Manifest
from better_skills.server.timefmt import iso_ms
from tests.vault.support import add_person, add_team_vault, created, services_of, skill_md

pytestmark = pytest.mark.anyio

AWKWARD = 'Zürich ☃ "quoted" \\ back\tslash </script> \u2028 😀'


async def test_the_list_is_the_models_bytes(client) -> None:
    ada = await add_person(client)
    await add_team_vault(client, "crew", {ada.id: "owner"})
    md = skill_md("awkward", f"'{AWKWARD}'".replace("\t", " "))
    await created(client, ada, {"SKILL.md": md})
    await created(client, ada, {"SKILL.md": skill_md("plain")}, vault="crew")
    svc = services_of(client)
    for url, limit in (("/api/v1/skills?limit=2", 2), ("/api/v1/skills", 20)):
        answer = await client.get(url, headers=ada.auth)
        assert answer.status_code == 200
        page = await svc.skills.list(ada.id, limit=limit)
        model = SkillPageOut(
            items=[SkillSummaryOut.from_record(s) for s in page.items], next_cursor=page.next_cursor
        )
        assert answer.content == model.model_dump_json().encode()
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["cache-control"] == "no-store"


async def test_the_manifest_is_the_models_json_and_its_cache_follows_writes(client) -> None:
    ada = await add_person(client)
    await created(client, ada, {"SKILL.md": skill_md("awkward", f"'{AWKWARD}'")})
    svc = services_of(client)

    async def check() -> dict:
        answer = await client.get("/api/v1/sync/manifest", headers=ada.auth)
        assert answer.status_code == 200
        found: Manifest = await svc.skills.manifest(ada.id)
        assert answer.headers["etag"] == found.etag
        body = json.loads(answer.content)
        model = ManifestOut(
            items=[
                ManifestItemOut(
                    id=i.id,
                    vault={"id": i.vault.id, "slug": i.vault.slug, "name": i.vault.name,
                           "type": i.vault.type},
                    slug=i.slug,
                    name=i.name,
                    description=i.description,
                    content_hash=i.content_hash,
                    updated_at=iso_ms(i.updated_at),
                )
                for i in found.items
            ],
            generated_at=body["generated_at"],
        )  # fmt: skip
        assert body == json.loads(model.model_dump_json())
        return body

    first = await check()
    again = await check()  # from the cache
    assert again["items"] == first["items"]
    await created(client, ada, {"SKILL.md": skill_md("second")})
    after = await check()
    assert len(after["items"]) == len(first["items"]) + 1


def test_the_manifest_cache_keeps_to_its_bytes_and_its_etags() -> None:
    cache = ManifestCache(max_bytes=100)
    cache.put("ada", False, '"1"', b"x" * 20)
    assert cache.get("ada", False, '"1"') == b"x" * 20
    assert cache.get("ada", False, '"2"') is None  # another ETag: read again
    assert cache.get("ada", True, '"1"') is None  # the other variant
    cache.put("bob", False, '"1"', b"y" * 20)
    cache.get("ada", False, '"1"')  # Ada's is now the most recently used
    for n in range(4):
        cache.put(f"p{n}", False, '"1"', b"z" * 20)
    assert cache.get("bob", False, '"1"') is None  # the least recently used went first
    assert cache.get("ada", False, '"1"') is None or cache._bytes <= 100
    assert cache._bytes <= 100
    cache.put("huge", False, '"1"', b"h" * 60)  # over a quarter of the budget: not kept
    assert cache.get("huge", False, '"1"') is None
