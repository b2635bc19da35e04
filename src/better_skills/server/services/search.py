"""Ranked search over the skills a user can read (``GET /api/v1/skills/search``)."""

from __future__ import annotations

from typing import Any

from better_skills.protocol import errors
from better_skills.server.db import Database
from better_skills.server.queries import search as q
from better_skills.server.timefmt import iso_ms
from better_skills.skillfmt.hashing import etag

MAX_LIMIT = 50
DEFAULT_LIMIT = 20
#: Longer queries are refused: they cannot be a name, and they cost the index more.
MAX_QUERY_CHARS = 200


def parse_query(raw: str | None) -> str:
    """The query as searched (trimmed), or InvalidRequest."""
    query = (raw or "").strip()
    if not query:
        raise errors.InvalidRequest("Give a search query: ?q=<text>.")
    if len(query) > MAX_QUERY_CHARS:
        raise errors.InvalidRequest(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    if "\0" in query:
        raise errors.InvalidRequest("The query contains a NUL character.")
    return query


def parse_limit(raw: str | None) -> int:
    """``?limit=`` as an int in 1-50 (default 20), or InvalidRequest."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise errors.InvalidRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def _summary(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "vault": {
            "id": row.vault_id,
            "slug": row.vault_slug,
            "name": row.vault_name,
            "type": row.vault_type,
        },
        "slug": row.slug,
        "name": row.name,
        "description": row.description,
        "content_hash": row.content_hash,
        "etag": etag(row.content_hash),
        "file_count": row.file_count,
        "size": row.size,
        "created_at": iso_ms(row.created_at),
        "updated_at": iso_ms(row.updated_at),
    }


async def search(db: Database, user_id: str, query: str, limit: int) -> dict[str, Any]:
    """``{items: [SkillSummary + match, score, snippet], total}`` over the user's vaults.

    One read transaction, so the hits, their summaries and snippets agree."""
    async with db.read() as conn:
        vaults = await q.vault_ids_of(conn, user_id)
        hits, total = await q.find(conn, db.dialect, vaults, query, limit)
        ids = [h.skill_id for h in hits]
        rows = await q.summary_rows(conn, ids)
        content_ids = [h.skill_id for h in hits if h.match == "content"]
        cuts = await q.snippets(conn, content_ids, query)
    items = []
    for hit in hits:
        row = rows.get(hit.skill_id)
        if row is None:  # cannot happen inside one transaction; never show a half row
            continue
        items.append(
            {
                **_summary(row),
                "match": hit.match,
                "score": round(hit.score, 3),
                "snippet": cuts.get(hit.skill_id),
            }
        )
    return {"items": items, "total": total}
