"""Ranked search over the skills a user can read (``GET /api/v1/skills/search``)."""

from __future__ import annotations

from dataclasses import dataclass

from better_skills.protocol import errors
from better_skills.server.db import Database
from better_skills.server.principal import Principal
from better_skills.server.queries import search as q
from better_skills.server.queries import vaults as vault_queries
from better_skills.server.services.skills import SkillSummary, summary_from_row

MAX_LIMIT = 50
DEFAULT_LIMIT = 20
#: Longer queries are refused: no name is that long, and they only cost the index more.
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class SearchHit:
    summary: SkillSummary
    match: str  # "name", "description" or "content"
    score: float  # 0-1, rounded to 3 places
    snippet: str | None


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
    """``?limit=`` as an int from 1 to 50 (default 20), or InvalidRequest."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise errors.InvalidRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int
    #: False when the scans stopped at ``queries.search.COUNT_CAP`` matches: ``total`` is
    #: then a lower bound.
    total_exact: bool


async def search_page(db: Database, principal: Principal, query: str, limit: int) -> SearchPage:
    """The best ``limit`` hits in the caller's vaults (enabled or not: the switch is about
    sync), and how many there are. One read transaction, so hits, summaries and snippets
    agree."""
    async with db.read() as tx:
        vaults = await vault_queries.vault_ids(tx, principal.user_id)
        found = await q.find(tx, db.dialect, vaults, query, limit)
        rows = await q.summary_rows(tx, [h.skill_id for h in found.hits])
        content_ids = [h.skill_id for h in found.hits if h.match == "content"]
        cuts = await q.snippets(tx, content_ids, query)
    hits = [
        SearchHit(
            summary_from_row(rows[h.skill_id]), h.match, round(h.score, 3), cuts.get(h.skill_id)
        )
        for h in found.hits
        if h.skill_id in rows  # always, inside one transaction
    ]
    return SearchPage(hits, found.total, found.exact)


async def search(
    db: Database, principal: Principal, query: str, limit: int
) -> tuple[list[SearchHit], int]:
    """:func:`search_page` as (hits, total), for callers that show no lower bound."""
    page = await search_page(db, principal, query, limit)
    return page.hits, page.total
