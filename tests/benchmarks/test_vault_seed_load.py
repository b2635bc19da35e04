"""The bulk-loaded benchmark vault is what the server would have stored, on both backends.

A small vault is built as ``vault_data.py`` builds the 100,000-skill one (people and team
vault over HTTP, then ``vault_seed`` in bulk, search triggers set aside and the index filled
afterwards). Then, through the real server: a seeded skill reads back exactly as the same
folder does when ``POST /api/v1/skills`` stores it (ids aside), its stored rows match column by
column, and search finds the planted words and seeded names. A second database loaded through
the triggers row by row holds the same search index.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import run as base  # noqa: E402
import vault_content  # noqa: E402
import vault_data  # noqa: E402
import vault_seed  # noqa: E402

from better_skills.skillfmt import hashing  # noqa: E402
from tests.support.databases import Templates, fresh_database  # noqa: E402

SKILLS = 60
# Each test builds a vault through a real server: minutes on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _ids(text: str, mapping: dict[str, str]) -> str:
    for old, new in mapping.items():
        text = text.replace(old, new)
    return text


def _skill_rows(url: str, skill_id: str) -> dict[str, Any]:
    skill = vault_seed.query(
        url,
        "SELECT name, description, frontmatter, version, file_count, size, created_by"
        " FROM skills WHERE id = $1",
        skill_id,
    )
    files = vault_seed.query(
        url,
        "SELECT path, kind, size, sha256, content FROM skill_files WHERE skill_id = $1",
        skill_id,
    )
    links = vault_seed.query(
        url,
        "SELECT f.path, l.target_skill_id, l.target_file_id, l.kind FROM skill_links l"
        " JOIN skill_files f ON f.id = l.source_file_id WHERE l.source_skill_id = $1",
        skill_id,
    )
    return {
        "skill": tuple(skill[0]),
        "files": sorted((p, k, s, h, bytes(c)) for p, k, s, h, c in files),
        "links": sorted(links, key=str),
    }


@pytest.fixture
def seeded(backend: str, database_url: str, tmp_path: Path) -> Iterator[tuple[str, base.Server]]:
    vault_data.build(database_url, SKILLS, tmp_path, processes=1, verify_every=1)
    server = base.Server(database_url, tmp_path, workers=1)
    server.start()
    try:
        yield database_url, server
    finally:
        server.stop()


def test_a_seeded_skill_reads_back_as_a_posted_one(seeded: tuple[str, base.Server]) -> None:
    url, server = seeded
    # The tenth skill mentions the ninth, and links to its own guide with a draft. Its author
    # posts the twin, so that created_by matches too.
    (source_id, author) = vault_seed.query(
        url,
        "SELECT l.source_skill_id, u.email FROM skill_links l"
        " JOIN skills s ON s.id = l.source_skill_id JOIN users u ON u.id = s.created_by"
        " WHERE l.target_file_id IS NULL ORDER BY l.source_skill_id LIMIT 1",
    )[0]
    token = vault_data.sign_in(server, int(author.removeprefix("bench").split("@")[0]))
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as api:
        seeded_skill = api.get(f"/api/v1/skills/{source_id}", params={"content": 1}).json()
        files = {f["path"]: f for f in seeded_skill["files"]}
        guide_id = files["references/guide.md"]["id"]
        upload = [
            {
                "path": f["path"],
                "content": f["content"].replace(
                    f"[[resource:{guide_id}]]", "[[resource:new:references/guide.md]]"
                ),
            }
            for f in seeded_skill["files"]
        ]
        assert upload != [{"path": f["path"], "content": f["content"]} for f in files.values()]
        made = api.post(
            "/api/v1/skills",
            json={"vault": seeded_skill["vault"]["id"], "slug": "posted-twin", "files": upload},
        )
        # The same slug cannot be taken twice in one vault: post under another, compare the rest.
        assert made.status_code == 201, made.text
        posted = api.get(f"/api/v1/skills/{made.json()['id']}", params={"content": 1}).json()

    mapping = {posted["id"]: seeded_skill["id"], "posted-twin": seeded_skill["slug"]}
    for f in posted["files"]:
        mapping[f["id"]] = files[f["path"]]["id"]
    # Ids, slug and times differ; with those mapped, only the hashes of the files that hold an
    # id (and so the skill's content hash) can differ: they are checked against the rule below.
    volatile = ("created_at", "updated_at", "content_hash", "sha256", "etag")

    def comparable(skill: dict[str, Any]) -> dict[str, Any]:
        text = json.loads(_ids(json.dumps(skill), mapping))
        text = {k: v for k, v in text.items() if k not in volatile}
        text["files"] = sorted(
            ({k: v for k, v in f.items() if k not in volatile} for f in text["files"]),
            key=lambda f: f["path"],
        )
        return text

    assert comparable(posted) == comparable(seeded_skill)
    for skill in (posted, seeded_skill):
        shas = {f["path"]: hashing.file_sha256(f["content"].encode()) for f in skill["files"]}
        assert {f["path"]: f["sha256"] for f in skill["files"]} == shas
        assert skill["content_hash"] == hashing.content_hash(shas.items())

    stored, twin = _skill_rows(url, seeded_skill["id"]), _skill_rows(url, posted["id"])
    assert stored["skill"] == twin["skill"]  # frontmatter JSON text, version, counts, author
    twin_files = [
        (p, k, s, h, _ids(c.decode(), mapping).encode()) for p, k, s, h, c in twin["files"]
    ]
    assert [f[:3] + f[4:] for f in stored["files"]] == [f[:3] + f[4:] for f in twin_files]
    twin_links = [tuple(_ids(str(v), mapping) if v else v for v in row) for row in twin["links"]]
    assert stored["links"] == twin_links and len(stored["links"]) == 2


def test_search_finds_seeded_content(seeded: tuple[str, base.Server]) -> None:
    url, server = seeded
    token = vault_data.sign_in(server, 0)
    (name, slug) = vault_seed.query(url, "SELECT name, slug FROM skills ORDER BY created_at DESC")[
        0
    ]
    with httpx.Client(
        base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as api:

        def search(q: str) -> dict[str, Any]:
            answer = api.get("/api/v1/skills/search", params={"q": q, "limit": 50})
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        rare = search(vault_content.RARE)
        assert rare["total"] == 1
        # The first person sees the team vault and their own (all 60 skills here, as the
        # first 500 go to the team vault), and the shipped skill, which may hold the word too.
        shipped = vault_seed.query(
            url,
            "SELECT f.skill_id, f.content FROM skill_files f JOIN skills s"
            " ON s.id = f.skill_id JOIN vaults v ON v.id = s.vault_id WHERE v.type = 'system'",
        )
        extra = len({i for i, c in shipped if vault_content.COMMON in bytes(c).decode().lower()})
        assert search(vault_content.COMMON)["total"] == SKILLS // 5 + extra
        assert slug in {i["slug"] for i in search(slug)["items"]}
        assert search(name.split()[0].lower())["total"] > 0
    manifest_revisions = vault_seed.query(
        url, "SELECT revision FROM vaults WHERE slug = $1", vault_seed.TEAM_SLUG
    )
    assert manifest_revisions == [(SKILLS,)]  # one bump per skill, as each create makes


def _index(url: str) -> dict[str, Any]:
    if vault_seed.backend_of(url) == "postgres":
        return {
            "skills": sorted(
                # The two databases' vault ids differ: whether each row has its skill's.
                vault_seed.query(
                    url,
                    "SELECT x.skill_id, x.vault_id = s.vault_id, x.name, x.slug, x.description,"
                    " x.name_key, x.slug_key, x.folded"
                    " FROM search_skills x JOIN skills s ON s.id = x.skill_id",
                )
            ),
            "files": sorted(
                vault_seed.query(url, "SELECT file_id, skill_id, path, body FROM search_files")
            ),
        }
    found: dict[str, Any] = {
        "skills": vault_seed.query(
            url,
            "SELECT k.id, k.skill_id, k.vault_id = s.vault_id, k.name, k.slug"
            " FROM search_skill_keys k JOIN skills s ON s.id = k.skill_id ORDER BY k.id",
        ),
        "files": vault_seed.query(
            url, "SELECT id, file_id, skill_id, skill_key, path FROM search_file_keys ORDER BY id"
        ),
    }
    for word in (vault_content.COMMON, vault_content.RARE, "guide", "echo", "ka"):
        found[word] = vault_seed.query(
            url, "SELECT rowid FROM search_body WHERE search_body MATCH $1 ORDER BY rowid", word
        )
        found["meta " + word] = vault_seed.query(
            url, "SELECT rowid FROM search_meta WHERE search_meta MATCH $1 ORDER BY rowid", word
        )
    return found


def test_bulk_load_builds_the_index_the_triggers_build(
    backend: str, database_url: str, tmp_path: Path, database_templates: Templates
) -> None:
    (tmp_path / "bulk").mkdir()
    (tmp_path / "rows").mkdir()
    vault_data.build(database_url, SKILLS, tmp_path / "bulk", processes=1)
    with fresh_database(backend, tmp_path / "rows", database_templates) as other:
        vault_data.build(other, SKILLS, tmp_path / "rows", processes=1, via_triggers=True)
        by_rows = _index(other)
    bulk = _index(database_url)
    # The shipped default skill's ids are the same in both; the seeded ones come from the seed.
    if backend == "postgres":
        assert bulk == by_rows
    else:
        assert bulk["files"] == by_rows["files"] and bulk["skills"] == by_rows["skills"]
        assert bulk == by_rows
        assert len(bulk[vault_content.RARE]) == 1
    assert len(bulk["files"]) >= 3 * SKILLS
