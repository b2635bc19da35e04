"""``GET /api/v1/skills/search`` on both backends: ranking, snippets, literal wildcards,
short queries, typos, scope, and the index following every write of a skill and its files.

Skills are written with plain SQL here: the index is kept by database triggers, so any
write (the vault service's, a bulk load, this test's) must show in search at once.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from better_skills.server.queries import search as search_queries
from better_skills.server.queries.vaults import SYSTEM_VAULT_ID
from tests.vault.support import add_person, add_team_vault, created, services_of, skill_md, uploads

pytestmark = pytest.mark.anyio

NOW = 1_764_460_800_000


class Vaults:
    """Writes vaults, memberships, skills and files straight into the database."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.db = services_of(client).db

    async def sql(self, statement: str, **params: Any) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(text(statement), params)

    async def personal(self, user_id: str) -> str:
        """The user's personal vault, after leaving the system vault: these tests rank a
        fixed corpus, and the shipped default skill would join it."""
        await self.sql(
            "DELETE FROM vault_memberships WHERE vault_id = :v AND user_id = :u",
            v=SYSTEM_VAULT_ID,
            u=user_id,
        )
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT id FROM vaults WHERE owner_user_id = :u AND type = 'personal'"),
                    {"u": user_id},
                )
            ).first()
        assert row is not None
        return str(row.id)

    async def team(self, slug: str, user_id: str) -> str:
        return await add_team_vault(self.client, slug, {user_id: "owner"})

    async def join(self, vault_id: str, user_id: str, role: str = "member") -> None:
        await self.sql(
            "INSERT INTO vault_memberships (vault_id, user_id, role, enabled, created_at,"
            " updated_at) VALUES (:v, :u, :r, :e, :now, :now)",
            v=vault_id,
            u=user_id,
            r=role,
            e=True,
            now=NOW,
        )

    async def skill(
        self, vault_id: str, name: str, description: str, files: dict[str, bytes] | None = None
    ) -> str:
        skill_id = str(uuid.uuid4())
        files = {"SKILL.md": b"# A skill\n", **(files or {})}
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:64]
        await self.sql(
            "INSERT INTO skills (id, vault_id, slug, name, description, frontmatter,"
            " content_hash, version, file_count, size, created_by, created_at, updated_at)"
            " VALUES (:id, :v, :slug, :name, :d, '{}', :h, 1, :n, :size, NULL, :now, :now)",
            id=skill_id,
            v=vault_id,
            slug=slug or "skill",
            name=name,
            d=description,
            h="0" * 64,
            n=len(files),
            size=sum(map(len, files.values())),
            now=NOW,
        )
        for path, data in files.items():
            await self.file(skill_id, path, data)
        return skill_id

    async def file(self, skill_id: str, path: str, data: bytes) -> str:
        file_id = str(uuid.uuid4())
        await self.sql(
            "INSERT INTO skill_files (id, skill_id, path, kind, size, sha256, content,"
            " created_at, updated_at) VALUES (:id, :s, :p, 'other', :size, :sha, :c, :now, :now)",
            id=file_id,
            s=skill_id,
            p=path,
            size=len(data),
            sha=hashlib.sha256(data).hexdigest(),
            c=data,
            now=NOW,
        )
        return file_id


@pytest.fixture
async def world(client: httpx.AsyncClient) -> tuple[httpx.AsyncClient, Vaults]:
    return client, Vaults(client)


async def person(client: httpx.AsyncClient, name: str) -> tuple[str, dict[str, str]]:
    """A user (personal vault, device session): their id and Bearer header."""
    who = await add_person(client, name)
    return who.id, who.auth


async def search(
    client: httpx.AsyncClient, auth: dict[str, str], q: str, **params: Any
) -> dict[str, Any]:
    response = await client.get("/api/v1/skills/search", params={"q": q, **params}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def names(result: dict[str, Any]) -> list[str]:
    return [item["name"] for item in result["items"]]


async def test_ranking_on_a_fixed_corpus(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    await vaults.skill(v, "Deploy", "Ship it.")
    await vaults.skill(v, "Kubernetes deploy", "Rolls out pods.")
    await vaults.skill(v, "Redeployer", "Again and again.")
    await vaults.skill(v, "Release notes", "Writes notes after each deploy.")
    await vaults.skill(
        v, "Changelog", "Keeps a log.", {"references/howto.md": b"Run it after a deploy."}
    )
    await vaults.skill(v, "Unrelated", "Nothing here.", {"notes.md": b"No match at all."})

    result = await search(client, auth, "deploy")
    assert names(result) == [
        "Deploy",  # the whole name
        "Kubernetes deploy",  # a word of the name
        "Redeployer",  # inside a word of the name
        "Release notes",  # description
        "Changelog",  # content
    ]
    assert [i["match"] for i in result["items"]] == [
        "name",
        "name",
        "name",
        "description",
        "content",
    ]
    scores = [i["score"] for i in result["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores) and scores[0] == 1.0
    assert result["total"] == 5
    first = result["items"][0]
    assert first["snippet"] is None and first["vault"]["id"] == v
    assert first["etag"] == '"' + first["content_hash"] + '"'
    assert {"slug", "description", "file_count", "size", "created_at", "updated_at"} <= set(first)

    limited = await search(client, auth, "deploy", limit=2)
    assert names(limited) == ["Deploy", "Kubernetes deploy"] and limited["total"] == 5


async def test_slug_matches_rank_as_name(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    await vaults.skill(v, "About pipelines", "Mentions zeta-tool in the description.")
    by_slug = await vaults.skill(v, "Zeta Tool", "Does things.")
    await vaults.sql("UPDATE skills SET slug = 'zeta-tool', name = 'ZT' WHERE id = :i", i=by_slug)
    result = await search(client, auth, "zeta-tool")
    assert [(i["name"], i["match"]) for i in result["items"]] == [
        ("ZT", "name"),
        ("About pipelines", "description"),
    ]


async def test_content_hits_have_a_snippet(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    long_text = ("word " * 30) + "the NEEDLE is here\nand then " + ("more " * 30)
    await vaults.skill(
        v, "Haystack", "Nothing.", {"references/a.md": b"no", "references/b.md": long_text.encode()}
    )
    await vaults.skill(v, "Binary", "Nothing.", {"assets/x.bin": b"needle\0\xff\xfe"})
    result = await search(client, auth, "needle")
    assert names(result) == ["Haystack"]  # the binary file is not indexed
    snippet = result["items"][0]["snippet"]
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "the NEEDLE is here and then" in snippet  # case kept, newline made a space
    assert len(snippet) <= 2 + 40 + len("needle") + 40


async def test_percent_and_underscore_are_literal(
    world: tuple[httpx.AsyncClient, Vaults],
) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    await vaults.skill(v, "100% coverage", "Tests.")
    await vaults.skill(v, "snake_case names", "Style.")
    await vaults.skill(v, "snakeXcase", "Other.", {"notes.md": b"snakeYcase"})
    await vaults.skill(v, "Plain", "Nothing.")
    assert names(await search(client, auth, "%")) == ["100% coverage"]
    assert names(await search(client, auth, "_")) == ["snake_case names"]
    assert names(await search(client, auth, "0%")) == ["100% coverage"]
    assert names(await search(client, auth, "e_c")) == ["snake_case names"]
    # "snakeXcase" may come as a typo of "snake_case", never as a wildcard hit.
    items = (await search(client, auth, "snake_case"))["items"]
    assert items[0]["name"] == "snake_case names" and items[0]["score"] >= 0.85
    assert all(i["score"] < 0.85 and i["match"] == "name" for i in items[1:])
    assert (await search(client, auth, "%%%"))["total"] == 0


async def test_one_and_two_character_queries(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    await vaults.skill(v, "Go", "The Go toolchain.")
    await vaults.skill(v, "Cargo", "Rust builds.")
    await vaults.skill(v, "Lint", "Keeps go code tidy.")
    await vaults.skill(v, "Zzz", "Sleep.")
    result = await search(client, auth, "go")
    assert names(result) == ["Go", "Cargo", "Lint"]
    assert [i["match"] for i in result["items"]] == ["name", "name", "description"]
    assert result["total"] == 3
    assert names(await search(client, auth, "Z")) == ["Zzz"]


async def test_a_small_typo_in_a_name_still_finds_it(
    world: tuple[httpx.AsyncClient, Vaults],
) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    await vaults.skill(v, "kubernetes-deploy", "Rolls out pods.")
    await vaults.skill(v, "Unrelated", "Nothing here.")
    result = await search(client, auth, "kubernets")
    assert names(result) == ["kubernetes-deploy"]
    assert result["items"][0]["match"] == "name" and result["items"][0]["score"] < 0.85
    assert (await search(client, auth, "qxzvw"))["total"] == 0


async def test_only_the_callers_vaults(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, vaults = world
    ada, ada_auth = await person(client, "ada@example.com")
    bob, bob_auth = await person(client, "bob@example.com")
    ada_vault = await vaults.personal(ada)
    bob_vault = await vaults.personal(bob)
    team = await vaults.team("team", ada)
    await vaults.skill(ada_vault, "Secret plan", "Ada's.", {"x.md": b"shared word quokka"})
    await vaults.skill(bob_vault, "Bob plan", "Bob's.", {"x.md": b"quokka"})
    for q in ("plan", "quokka", "pl", "secret", "Secrt plan"):
        assert "Secret plan" not in names(await search(client, bob_auth, q))
    assert names(await search(client, bob_auth, "plan")) == ["Bob plan"]
    await vaults.skill(team, "Team plan", "Everyone's.")
    assert "Team plan" not in names(await search(client, bob_auth, "plan"))
    await vaults.join(team, bob)
    assert names(await search(client, bob_auth, "plan")) == ["Bob plan", "Team plan"]
    assert (await search(client, ada_auth, "quokka"))["total"] == 1


async def test_the_index_follows_every_write(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    other = await vaults.team("team", user)
    skill = await vaults.skill(v, "Alpha", "First.", {"notes.md": b"platypus"})
    assert names(await search(client, auth, "platypus")) == ["Alpha"]

    # A changed name, slug and description.
    await vaults.sql(
        "UPDATE skills SET name = 'Omega', slug = 'omega', description = 'Last.' WHERE id = :i",
        i=skill,
    )
    assert (await search(client, auth, "alpha"))["total"] == 0
    assert (await search(client, auth, "first"))["total"] == 0
    assert names(await search(client, auth, "omega")) == ["Omega"]
    assert names(await search(client, auth, "last")) == ["Omega"]

    # A changed file, a new file, a deleted file.
    await vaults.sql(
        "UPDATE skill_files SET content = :c WHERE skill_id = :i AND path = 'notes.md'",
        c=b"wombat",
        i=skill,
    )
    assert (await search(client, auth, "platypus"))["total"] == 0
    assert names(await search(client, auth, "wombat")) == ["Omega"]
    await vaults.file(skill, "more.md", b"echidna")
    assert names(await search(client, auth, "echidna")) == ["Omega"]
    await vaults.sql("DELETE FROM skill_files WHERE skill_id = :i AND path = 'more.md'", i=skill)
    assert (await search(client, auth, "echidna"))["total"] == 0

    # A file that turns binary leaves the index, and comes back as text.
    await vaults.sql(
        "UPDATE skill_files SET content = :c WHERE skill_id = :i AND path = 'notes.md'",
        c=b"wombat\0",
        i=skill,
    )
    assert (await search(client, auth, "wombat"))["total"] == 0
    await vaults.sql(
        "UPDATE skill_files SET content = :c WHERE skill_id = :i AND path = 'notes.md'",
        c=b"wombat again",
        i=skill,
    )
    assert names(await search(client, auth, "wombat")) == ["Omega"]

    # A move to another vault: findable there, by name and content, and only there.
    bob, bob_auth = await person(client, "Bob")
    await vaults.personal(bob)
    await vaults.join(other, bob)
    assert (await search(client, bob_auth, "wombat"))["total"] == 0
    await vaults.sql("UPDATE skills SET vault_id = :v WHERE id = :i", v=other, i=skill)
    found = (await search(client, auth, "omega"))["items"]
    assert [i["vault"]["id"] for i in found] == [other]
    assert names(await search(client, bob_auth, "wombat")) == ["Omega"]
    await vaults.sql("UPDATE skills SET vault_id = :v WHERE id = :i", v=v, i=skill)
    assert (await search(client, bob_auth, "wombat"))["total"] == 0
    await vaults.sql("UPDATE skills SET vault_id = :v WHERE id = :i", v=other, i=skill)

    # A deleted skill (its files go with it).
    await vaults.sql("DELETE FROM skills WHERE id = :i", i=skill)
    for q in ("omega", "wombat", "om"):
        assert (await search(client, auth, q))["total"] == 0


async def test_a_rolled_back_write_leaves_the_index_alone(
    world: tuple[httpx.AsyncClient, Vaults],
) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    skill = await vaults.skill(v, "Alpha", "First.")

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with vaults.db.write() as tx:
            await tx.execute(text("UPDATE skills SET name = 'Gamma' WHERE id = :i"), {"i": skill})
            raise Abort
    assert (await search(client, auth, "gamma"))["total"] == 0
    assert names(await search(client, auth, "alpha")) == ["Alpha"]


async def test_text_that_is_not_utf8_is_stored_and_skipped(
    world: tuple[httpx.AsyncClient, Vaults],
) -> None:
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    await vaults.skill(v, "Latin1", "Old file.", {"old.txt": "café numbat".encode("latin-1")})
    result = await search(client, auth, "latin1")
    assert names(result) == ["Latin1"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"q": ""}, 400),
        ({"q": "   "}, 400),
        ({"q": "x" * 201}, 400),
        ({"q": "a", "limit": "0"}, 400),
        ({"q": "a", "limit": "51"}, 400),
        ({"q": "a", "limit": "ten"}, 400),
        ({"q": "a", "limit": "-1"}, 400),
        ({"q": "a", "limit": "50"}, 200),
        ({"q": "a\0b"}, 400),
    ],
)
async def test_bad_parameters(
    world: tuple[httpx.AsyncClient, Vaults], params: dict[str, str], status: int
) -> None:
    client, _ = world
    _, auth = await person(client, "ada@example.com")
    response = await client.get("/api/v1/skills/search", params=params, headers=auth)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"] == "invalid_request"


async def test_no_credentials(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, _ = world
    response = await client.get("/api/v1/skills/search", params={"q": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_the_index_follows_the_vault_api(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, vaults = world
    ada = await add_person(client, "Ada")
    await vaults.personal(ada.id)
    files = {"SKILL.md": skill_md("alpha-tool", "Finds aardvarks."), "notes.md": b"platypus"}
    skill = await created(client, ada, files)
    assert names(await search(client, ada.auth, "aardvark")) == ["alpha-tool"]
    hit = (await search(client, ada.auth, "platypus"))["items"]
    assert [(i["id"], i["match"], i["snippet"]) for i in hit] == [
        (skill["id"], "content", "platypus")
    ]

    files = {"SKILL.md": skill_md("beta-tool", "Finds badgers."), "other.md": b"wombat"}
    put = await client.put(
        f"/api/v1/skills/{skill['id']}",
        json={"files": uploads(files)},
        headers={**ada.auth, "If-Match": skill["etag"]},
    )
    assert put.status_code == 200, put.text
    for gone in ("aardvark", "platypus"):  # the slug stays alpha-tool
        assert (await search(client, ada.auth, gone))["total"] == 0
    assert names(await search(client, ada.auth, "badger")) == ["beta-tool"]
    assert names(await search(client, ada.auth, "wombat")) == ["beta-tool"]

    deleted = await client.delete(f"/api/v1/skills/{skill['id']}", headers=ada.auth)
    assert deleted.status_code == 204
    for gone in ("badger", "wombat", "beta", "alpha"):
        assert (await search(client, ada.auth, gone))["total"] == 0


async def test_the_default_skill_is_found(world: tuple[httpx.AsyncClient, Vaults]) -> None:
    client, _ = world
    ada = await add_person(client, "Ada")
    items = (await search(client, ada.auth, "better-skills"))["items"]
    assert items[0]["slug"] == "better-skills" and items[0]["vault"]["type"] == "system"


async def test_counting_stops_at_the_cap(
    world: tuple[httpx.AsyncClient, Vaults], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A common word or a short query stops counting at COUNT_CAP matches: ``total`` is then
    a lower bound and ``total_exact`` false; at or under the cap both are exact."""
    client, vaults = world
    user, auth = await person(client, "ada@example.com")
    v = await vaults.personal(user)
    for i in range(5):
        await vaults.skill(v, f"Qa tool {i}", "Nothing.", {"notes.md": b"a quokka lives here"})
    await vaults.skill(v, "Other", "Nothing.", {"notes.md": b"a numbat"})

    exact = await search(client, auth, "quokka")
    assert (exact["total"], exact["total_exact"], len(exact["items"])) == (5, True, 5)
    short = await search(client, auth, "qa")
    assert (short["total"], short["total_exact"], len(short["items"])) == (5, True, 5)

    monkeypatch.setattr(search_queries, "COUNT_CAP", 3)
    capped = await search(client, auth, "quokka")
    assert capped["total_exact"] is False and 3 <= capped["total"] <= 5
    assert {i["match"] for i in capped["items"]} == {"content"}
    assert 3 <= len(capped["items"]) <= 5
    short = await search(client, auth, "qa")
    assert (short["total"], short["total_exact"]) == (3, False)
    assert len(short["items"]) in (3, 4)  # the scan stops one match past the cap
    assert {i["match"] for i in short["items"]} == {"name"}
    assert all(i["name"].startswith("Qa tool") for i in short["items"])
    # A name hit is still ranked above the content hits the capped scan found.
    await vaults.skill(v, "Quokka care", "Nothing.")
    ranked = await search(client, auth, "quokka")
    assert ranked["items"][0]["name"] == "Quokka care" and ranked["total_exact"] is False

    monkeypatch.setattr(search_queries, "COUNT_CAP", 6)
    at_cap = await search(client, auth, "quokka")
    assert (at_cap["total"], at_cap["total_exact"]) == (6, True)
