"""Helpers of the fault tests: an account with a token on a live server, and the database
read directly (no server in between) to check a skill's invariants after a crash."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from better_skills.skillfmt import hashing, mentions
from tests.support.live_server import LiveServer

PASSWORD = "correct horse battery staple"


def account_token(server: LiveServer, email: str = "ada@example.com") -> str:
    """Sign a person up and return a personal access token of theirs."""
    person = server.browser()
    try:
        session = person.sign_up("Ada Lovelace", email, PASSWORD)["token"]
    finally:
        person.close()
    made = httpx.post(
        server.url + "/api/v1/tokens",
        json={"name": "faults", "expires_in_days": 1},
        headers={"Authorization": f"Bearer {session}"},
        timeout=20,
    )
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


def query(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (parameters written ``:name``) read straight from the database."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split(":///", 1)[1]) as db:
            return [tuple(row) for row in db.execute(sql, params).fetchall()]
    import psycopg

    for name in params:
        sql = sql.replace(f":{name}", f"%({name})s")
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


@dataclass(frozen=True)
class StoredSkill:
    version: int
    files: dict[str, bytes]  # path -> content
    ids: dict[str, str]  # path -> file id


def stored_skill(database_url: str, skill_id: str) -> StoredSkill:
    """The skill as the database holds it, after checking every invariant a write must keep:
    each file's sha256 and size match its bytes; the skill's content hash, file count and size
    match its files; its links are exactly the mentions parsed from its files."""
    (row,) = query(
        database_url,
        "SELECT version, content_hash, file_count, size FROM skills WHERE id = :id",
        id=skill_id,
    )
    version, content_hash, file_count, size = row
    files: dict[str, bytes] = {}
    ids: dict[str, str] = {}
    shas: dict[str, str] = {}
    for file_id, path, content, sha, file_size in query(
        database_url,
        "SELECT id, path, content, sha256, size FROM skill_files WHERE skill_id = :id",
        id=skill_id,
    ):
        data = bytes(content)
        assert hashlib.sha256(data).hexdigest() == sha, path
        assert len(data) == file_size, path
        files[path], ids[path], shas[path] = data, file_id, sha
    assert hashing.content_hash(shas.items()) == content_hash
    assert file_count == len(files)
    assert size == sum(len(d) for d in files.values())
    assert links_of(database_url, skill_id) == expected_links(database_url, skill_id, files, ids)
    return StoredSkill(version, files, ids)


def links_of(database_url: str, skill_id: str) -> list[tuple[str, str, str | None]]:
    rows = query(
        database_url,
        "SELECT source_file_id, target_skill_id, target_file_id, kind FROM skill_links "
        "WHERE source_skill_id = :id",
        id=skill_id,
    )
    assert all(kind == "mention" for *_, kind in rows)
    return sorted((a, b, c) for a, b, c, _ in rows)


def expected_links(
    database_url: str, skill_id: str, files: dict[str, bytes], ids: dict[str, str]
) -> list[tuple[str, str, str | None]]:
    """The links the files' mentions call for: a skill mention targets the skill, a resource
    mention targets the file (in this skill or in another of the same vault)."""
    owner = dict(query(database_url, "SELECT id, skill_id FROM skill_files"))
    expected: list[tuple[str, str, str | None]] = []
    for path, data in files.items():
        if not mentions.is_text(data):
            continue
        for token in mentions.mentions(data.decode("utf-8")):
            if token.kind == "skill":
                expected.append((ids[path], token.target, None))
            else:
                expected.append((ids[path], owner[token.target], token.target))
    return sorted(expected)


def as_upload(files: dict[str, bytes]) -> list[dict[str, str]]:
    return [{"path": p, "content": d.decode("utf-8")} for p, d in sorted(files.items())]


def paths_of(items: Sequence[dict[str, Any]]) -> list[str]:
    return sorted(str(item["path"]) for item in items)
