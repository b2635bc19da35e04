"""Ranked skill search: the SQL, per dialect, over the indexes of migrations 0005 and 0009.

Three passes, each within the caller's vaults:

1. **name, slug, description**: substring match (SQLite: FTS5 trigram phrase; PostgreSQL:
   ILIKE served by ``pg_trgm`` GIN indexes). Queries of one or two characters, which a
   trigram index cannot serve, look up whole and prefix name or slug matches by B-tree and
   scan the caller's skills with LIKE (:mod:`queries.search_short`).
2. **file content** (three characters or more): skills whose text files contain the query
   and that pass 1 did not find; only as many rows as the page still needs, plus their
   count. Hits in ``SKILL.md`` come first; among equals the order is the index's (cheap: a
   common word can be in every other skill, and ordering those by name would cost a lookup
   per hit).
3. **typos** in name and slug, only when nothing contains the query (four characters or
   more): candidates sharing trigrams with the query, kept when :func:`word_similarity`
   reaches :data:`TYPO_THRESHOLD`.

**Counting is capped** (:data:`COUNT_CAP`). A common word or a two-letter query matches a
fixed share of every skill, so counting (and ranking) every hit made such a search cost time
in proportion to the vault: 40 to 50 ms of CPU at 100,000 skills (docs/performance.md). The
short-query scan and the content pass stop after ``COUNT_CAP`` matches (in the table's or
the index's order), rank what they found, and say whether they saw everything
(:attr:`Found.exact`); when not, ``total`` is a lower bound. The name-before-description
and "SKILL.md first" orders hold among the matches found; a short query's whole and prefix
name or slug matches are looked up by index before the capped scan, so they are found even
past it (up to ``COUNT_CAP`` of them).

Scores are fixed tiers (see :func:`name_quality` and :data:`CONTENT_SCORE`), so name and slug
hits always rank above description hits, and those above content hits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from better_skills.server.direct import Tx
from better_skills.server.models import skills
from better_skills.server.queries.search_short import SHORT, SQLITE_LOOKUP, TOP
from better_skills.server.queries.skills import SUMMARY

#: Word similarity a name or slug needs to count as a typo of the query.
TYPO_THRESHOLD = 0.4
#: Most candidates pass 3 looks at.
TYPO_CANDIDATES = 200
#: Score of a content hit in ``SKILL.md``, and in any other file.
CONTENT_SCORE = {True: 0.3, False: 0.25}
#: Most matches a short-query scan or the content pass looks at; read at call time, so a
#: test can lower it.
COUNT_CAP = 1000

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Found:
    """A page of hits, the number of all hits, and whether that number is exact (else a
    lower bound: the scans stopped at :data:`COUNT_CAP` matches)."""

    hits: list[Hit]
    total: int
    exact: bool


@dataclass(frozen=True)
class Hit:
    skill_id: str
    tiebreak: str  # orders hits of equal score: the name, or a content hit's position
    match: str  # "name", "description" or "content"
    score: float


# -- scoring (pure) ----------------------------------------------------------------------------


def _quality(field: str, needle: str) -> float | None:
    """How well ``needle`` (case-folded) sits in ``field``: None when it does not occur."""
    hay = field.casefold()
    at = hay.find(needle)
    if at < 0:
        return None
    if hay == needle:
        return 1.0
    coverage = len(needle) / len(hay)  # a query that is most of the name ranks higher
    if at == 0:
        base = 0.9
    elif not hay[at - 1].isalnum():
        base = 0.8  # the start of a word
    else:
        base = 0.7
    return base + 0.09 * coverage


def name_quality(name: str, slug: str, query: str) -> float | None:
    """Score of a name or slug substring hit, in [0.85, 1.0]; None if neither contains it."""
    needle = query.casefold()
    found = [q for q in (_quality(name, needle), _quality(slug, needle)) if q is not None]
    return 0.85 + 0.15 * max(found) if found else None


def description_quality(description: str, query: str) -> float | None:
    """Score of a description hit, in [0.45, 0.6]; None if it does not contain the query."""
    found = _quality(description, query.casefold())
    return None if found is None else 0.45 + 0.15 * found


def typo_score(similarity: float) -> float:
    """Score of a name or slug typo hit, in [0.65, 0.8): below every substring name hit."""
    return 0.65 + 0.15 * min(similarity, 0.999)


def classify(row: Any, query: str) -> Hit | None:
    """A pass-1 row (id, name, slug, description) as a hit, or None if the text does not
    contain the query after all (an index's case folding can differ from Python's)."""
    score = name_quality(row.name, row.slug, query)
    if score is not None:
        return Hit(row.id, row.name, "name", score)
    score = description_quality(row.description, query)
    if score is not None:
        return Hit(row.id, row.name, "description", score)
    return None


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: lower-cased, two spaces before, one after."""
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams of two words (pg_trgm's ``similarity``)."""
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def word_similarity(query: str, text_: str) -> float:
    """The best similarity between the query and a word (or run of words) of ``text_``."""
    words = _WORD.findall(text_)
    q_words = _WORD.findall(query)
    if not words or not q_words:
        return 0.0
    n = len(q_words)
    joined = " ".join(q_words)
    spans = [" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))]
    return max(similarity(joined, span) for span in spans)


def order(hits: list[Hit]) -> list[Hit]:
    return sorted(hits, key=lambda h: (-h.score, h.tiebreak.casefold(), h.skill_id))


# -- SQL helpers --------------------------------------------------------------------------------


def like_pattern(query: str) -> str:
    """``%query%`` with ``\\``, ``%`` and ``_`` taken literally (ESCAPE '\\')."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(query: str) -> str:
    """An FTS5 phrase that matches ``query`` as a substring (trigram tokenizer)."""
    return '"' + query.replace('"', '""') + '"'


def _expanding(sql: str, *names: str) -> Any:
    return text(sql).bindparams(*(bindparam(n, expanding=True) for n in names))


# -- pass 1: name, slug, description ----------------------------------------------------------


#: Rows of a short query classified in Python, at least.
SHORT_ROWS = 100

_META_SQLITE = _expanding(
    "SELECT s.id, s.name, s.slug, s.description FROM search_meta m"
    " JOIN search_skill_keys k ON k.id = m.rowid JOIN skills s ON s.id = k.skill_id"
    " WHERE search_meta MATCH :m AND s.vault_id IN :vaults",
    "vaults",
)

_META_POSTGRES = _expanding(
    "SELECT s.id, s.name, s.slug, s.description FROM search_skills x"
    " JOIN skills s ON s.id = x.skill_id"
    " WHERE (x.name ILIKE :p OR x.slug ILIKE :p OR x.description ILIKE :p)"
    " AND s.vault_id IN :vaults",
    "vaults",
)

# -- pass 3: typos ---------------------------------------------------------------------------

_TYPO_SQLITE = _expanding(
    "SELECT s.id, s.name, s.slug FROM search_meta m"
    " JOIN search_skill_keys k ON k.id = m.rowid JOIN skills s ON s.id = k.skill_id"
    " WHERE search_meta MATCH :m AND s.vault_id IN :vaults"
    " ORDER BY m.rank LIMIT :n",
    "vaults",
)

_TYPO_POSTGRES = _expanding(
    "SELECT s.id, s.name, s.slug FROM search_skills x JOIN skills s ON s.id = x.skill_id"
    " WHERE (:q <% x.name OR :q <% x.slug) AND s.vault_id IN :vaults LIMIT :n",
    "vaults",
)

# -- pass 2: content -----------------------------------------------------------------------
# The first ``cap`` hit files (``h``, in the index's order), one row per skill not found by
# pass 1 (``c``: is any hit in SKILL.md?), the page's rows (``p``), and a last row whose id
# is NULL carrying the number of skills in ``c`` and of files in ``h``: one statement, and
# no more index hits read than the cap.


_CONTENT_SQLITE = _expanding(
    # CROSS JOIN keeps SQLite's join order: the index's hits first, then their keys.
    "WITH h AS MATERIALIZED (SELECT k.skill_key, k.skill_id, k.path = 'SKILL.md' AS in_md"
    " FROM search_body b CROSS JOIN search_file_keys k ON k.id = b.rowid"
    " WHERE search_body MATCH :m AND k.vault_id IN :vaults LIMIT :cap),"
    " c AS (SELECT skill_id AS id, max(in_md) AS in_md, skill_key AS ord FROM h"
    " WHERE skill_id NOT IN :found GROUP BY skill_key),"
    " p AS (SELECT id, in_md, ord FROM c ORDER BY in_md DESC, ord LIMIT :n)"
    " SELECT id, in_md, ord, NULL AS skills, NULL AS files FROM p"
    " UNION ALL SELECT NULL, NULL, NULL, (SELECT count(*) FROM c), (SELECT count(*) FROM h)",
    "vaults",
    "found",
)

_CONTENT_POSTGRES = _expanding(
    "WITH h AS MATERIALIZED (SELECT f.skill_id, f.path = 'SKILL.md' AS in_md"
    " FROM search_files f WHERE f.body LIKE lower(:p) AND f.vault_id IN :vaults LIMIT :cap),"
    " c AS (SELECT skill_id AS id, max(in_md::int) AS in_md, skill_id AS ord FROM h"
    " WHERE skill_id NOT IN :found GROUP BY skill_id),"
    " p AS (SELECT id, in_md, ord FROM c ORDER BY in_md DESC, ord LIMIT :n)"
    " SELECT id, in_md, ord, NULL AS skills, NULL AS files FROM p"
    " UNION ALL SELECT NULL, NULL, NULL, (SELECT count(*) FROM c), (SELECT count(*) FROM h)",
    "vaults",
    "found",
)

_SET_TYPO_THRESHOLD = text(
    "SELECT set_config('pg_trgm.word_similarity_threshold', :t, false)"
).bindparams(t=str(TYPO_THRESHOLD))

#: Matches no real skill id; keeps ``NOT IN :found`` valid when nothing was found.
_NO_ID = "-"


async def find(tx: Tx, dialect: str, vault_ids: Sequence[str], query: str, limit: int) -> Found:
    """The best ``limit`` hits among the skills of ``vault_ids``, and how many there are."""
    vaults = list(vault_ids)
    if not vaults:
        return Found([], 0, True)
    cap = COUNT_CAP
    sqlite = dialect == "sqlite"
    p = like_pattern(query)
    if len(query) < 3:
        return await _short(tx, dialect, vaults, query, limit, cap)

    phrase = fts_phrase(query)
    if sqlite:
        rows = await tx.all(_META_SQLITE, {"m": phrase, "vaults": vaults})
    else:
        rows = await tx.all(_META_POSTGRES, {"p": p, "vaults": vaults})
    hits = [h for h in (classify(r, query) for r in rows) if h is not None]
    found = {h.skill_id for h in hits}

    params = {
        "vaults": vaults,
        "found": sorted(found) or [_NO_ID],
        "n": max(limit - len(hits), 1),
        "cap": cap + 1,  # one more than counted: did the scan stop early?
    }
    if sqlite:
        rows = await tx.all(_CONTENT_SQLITE, {**params, "m": phrase})
    else:
        rows = await tx.all(_CONTENT_POSTGRES, {**params, "p": p})
    counts = next(r for r in rows if r.id is None)
    page = sorted((r for r in rows if r.id is not None), key=lambda r: (-r.in_md, r.ord))
    # Content hits keep the database's order (SKILL.md hits first, then the oldest files).
    hits += [
        Hit(r.id, f"{i:08d}", "content", CONTENT_SCORE[bool(r.in_md)]) for i, r in enumerate(page)
    ]
    if not hits and len(query) >= 4:
        # Nothing contains the query: perhaps it is misspelt. Only then, because matching
        # by similarity looks at every name sharing a few trigrams with the query.
        hits = await _typos(tx, sqlite, vaults, query, found)
        return Found(order(hits)[:limit], len(hits), True)
    exact = counts.files <= cap
    total = len(found) + counts.skills
    # Past the cap the count is a lower bound, and never more than the cap the API states.
    return Found(order(hits)[:limit], total if exact else min(total, cap), exact)


async def _short(
    tx: Tx, dialect: str, vaults: list[str], query: str, limit: int, cap: int
) -> Found:
    """A query of one or two characters: :mod:`search_short`'s bounded passes."""
    p = like_pattern(query)
    params = {
        "vaults": vaults,
        "p": p,
        "q": query,
        "prefix": p[1:],
        "hi": query + TOP,
        "n": max(SHORT_ROWS, 2 * limit),
        "cap": cap + 1,  # one more than counted: did the scan stop early?
    }
    rows = await tx.all(SHORT[dialect], params)
    counted = rows[0].total if rows else 0
    if dialect == "sqlite" and counted > cap:
        # The scan stopped at the cap, perhaps before a whole or prefix name match: those
        # come from the index, first, and the first ``cap + 1`` distinct rows are kept.
        first = await tx.all(SQLITE_LOOKUP, params)
        rows = list({r.id: r for r in [*first, *rows]}.values())[: cap + 1]
    hits = [h for h in (classify(r, query) for r in rows) if h is not None]
    return Found(order(hits)[:limit], min(counted, cap), counted <= cap)


async def _typos(tx: Tx, sqlite: bool, vaults: list[str], query: str, found: set[str]) -> list[Hit]:
    params: dict[str, Any] = {"vaults": vaults, "n": TYPO_CANDIDATES}
    if sqlite:
        grams = sorted({query[i : i + 3] for i in range(len(query) - 2)})
        params["m"] = "{name slug} : (" + " OR ".join(fts_phrase(g) for g in grams) + ")"
        rows = await tx.all(_TYPO_SQLITE, params)
    else:
        await tx.execute(_SET_TYPO_THRESHOLD)
        rows = await tx.all(_TYPO_POSTGRES, {**params, "q": query})
    hits = []
    for r in rows:
        if r.id in found:
            continue
        best = max(word_similarity(query, r.name), word_similarity(query, r.slug))
        if best >= TYPO_THRESHOLD:
            hits.append(Hit(r.id, r.name, "name", typo_score(best)))
    return hits


# -- snippets and summaries ---------------------------------------------------------------

_PAGE_FILES = _expanding(
    "SELECT skill_id, path, content FROM skill_files WHERE skill_id IN :ids",
    "ids",
)

SNIPPET_CONTEXT = 40


def snippet(text_: str, query: str) -> str | None:
    """Up to 40 characters either side of the first occurrence (case-insensitive), on one
    line, with ``…`` where the text was cut; None when the text does not contain it."""
    hit = re.search(re.escape(query), text_, re.IGNORECASE)
    if hit is None:
        return None
    start = max(0, hit.start() - SNIPPET_CONTEXT)
    end = min(len(text_), hit.end() + SNIPPET_CONTEXT)
    window = " ".join(text_[start:end].split())
    return ("…" if start > 0 else "") + window + ("…" if end < len(text_) else "")


async def snippets(tx: Tx, ids: Sequence[str], query: str) -> dict[str, str]:
    """A snippet for each skill of ``ids``, from its first file (``SKILL.md`` first, then by
    path) that contains the query."""
    if not ids:
        return {}
    rows = await tx.all(_PAGE_FILES, {"ids": list(ids)})
    rows.sort(key=lambda r: (r.skill_id, r.path != "SKILL.md", r.path))
    found: dict[str, str] = {}
    for r in rows:
        if r.skill_id in found or b"\0" in r.content:
            continue
        cut = snippet(bytes(r.content).decode("utf-8", "replace"), query)
        if cut is not None:
            found[r.skill_id] = cut
    return found


async def summary_rows(tx: Tx, ids: Sequence[str]) -> dict[str, Any]:
    """The rows of :data:`queries.skills.SUMMARY` for ``ids``, by skill id."""
    if not ids:
        return {}
    statement = SUMMARY.where(skills.c.id.in_(list(ids)))
    return {r.id: r for r in await tx.all(statement)}
