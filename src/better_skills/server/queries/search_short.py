"""The SQL of a search for one or two characters, per dialect (columns of migration 0009).

No trigram index serves so short a query, and it matches a fixed share of every skill, so
it is bounded passes over the caller's vaults, each stopping at ``:cap`` rows:

0. skills whose name or slug **is** the query (B-tree lookups);
1. skills whose name or slug **starts with** it (B-tree range scans);
2. skills whose name, slug or description **contains** it (a scan of the caller's skills).

Passes 0 and 1 count first, so that a whole or prefix match is found even when pass 2 stops
at the cap before reaching it. The first ``:cap`` distinct skills (in pass order) are kept
and counted, and the ``:n`` best of them (name and slug hits first, whole names, prefixes,
then the shortest names) go to :func:`queries.search.classify` to be scored.

- PostgreSQL (:data:`SHORT`): one statement over migration 0009's ``search_short`` function
  (lower-cased columns of ``search_skills`` and LIKE; never a sequential scan).
- SQLite: pass 2 first (:data:`SHORT`, on ``skills``: SQLite's LIKE is cheap), and passes 0
  and 1 (:data:`SQLITE_LOOKUP`) only when it stopped at the cap; ``queries.search`` merges.

Parameters: ``vaults`` (expanding on SQLite, an array on PostgreSQL), ``q`` (the query),
``p`` (``%q%``, LIKE-escaped), ``prefix`` (``q%``, LIKE-escaped), ``hi`` (SQLite: the query
followed by U+10FFFF, the upper bound of a prefix range), ``cap`` and ``n``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text

#: Above every character: ``q <= key < q + TOP`` is "key starts with q" (byte order).
TOP = "\U0010ffff"

# SQLite: one scan of the caller's skills stops at ``:cap`` matches, ranked and counted in
# SQL; only the best rows are classified in Python. SQLite's LIKE is case-insensitive for
# ASCII already (no lower-cased copies of every description) and cheap: the scan is fast.
_E = " ESCAPE '\\'"
_SQLITE = (
    "SELECT id, name, slug, description, count(*) OVER () AS total FROM ("  # noqa: S608
    " SELECT s.id, s.name, s.slug, s.description,"
    f" (s.name LIKE :p{_E} OR s.slug LIKE :p{_E}) AS in_name,"
    " (lower(s.name) = lower(:q) OR lower(s.slug) = lower(:q)) AS whole,"
    f" (s.name LIKE :prefix{_E} OR s.slug LIKE :prefix{_E}) AS prefix"
    " FROM skills s WHERE s.vault_id IN :vaults"
    f" AND (s.name LIKE :p{_E} OR s.slug LIKE :p{_E} OR s.description LIKE :p{_E})"
    " LIMIT :cap"
    ") AS hits ORDER BY in_name DESC, whole DESC, prefix DESC, length(name), id LIMIT :n"
)

# SQLite, when that scan stopped at the cap: passes 0 and 1 through search_skill_keys'
# NOCASE indexes (one statement per column: SQLite then searches each index), the ``:n``
# best (whole, then the shortest) for Python to score.
_SQLITE_LOOKUP = (
    "SELECT s.id, s.name, s.slug, s.description FROM (SELECT skill_id, min(pass) AS pass FROM ("
    "SELECT 0 AS pass, skill_id FROM (SELECT skill_id FROM search_skill_keys"
    " WHERE vault_id IN :vaults AND name = :q LIMIT :cap)"
    " UNION ALL SELECT 0, skill_id FROM (SELECT skill_id FROM search_skill_keys"
    " WHERE vault_id IN :vaults AND slug = :q LIMIT :cap)"
    " UNION ALL SELECT 1, skill_id FROM (SELECT skill_id FROM search_skill_keys"
    " WHERE vault_id IN :vaults AND name >= :q AND name < :hi LIMIT :cap)"
    " UNION ALL SELECT 1, skill_id FROM (SELECT skill_id FROM search_skill_keys"
    " WHERE vault_id IN :vaults AND slug >= :q AND slug < :hi LIMIT :cap)"
    ") GROUP BY skill_id) AS k JOIN skills s ON s.id = k.skill_id"
    " ORDER BY k.pass, min(length(s.name), length(s.slug)), s.id LIMIT :n"
)


# PostgreSQL: the passes are migration 0009's ``search_short`` function (lower-cased columns
# and LIKE, several times cheaper than ILIKE; never a sequential scan: see there).
_POSTGRES = (
    "WITH once AS (SELECT DISTINCT ON (id) * FROM search_short("
    "CAST(:vaults AS varchar[]), lower(:q), lower(:p), :cap) ORDER BY id, pass),"
    " kept AS (SELECT * FROM once ORDER BY pass LIMIT :cap)"
    " SELECT id, name, slug, description, count(*) OVER () AS total FROM kept"
    " ORDER BY (name_key LIKE lower(:p) OR slug_key LIKE lower(:p)) DESC,"
    " (name_key = lower(:q) OR slug_key = lower(:q)) DESC,"
    " (name_key LIKE lower(:prefix) OR slug_key LIKE lower(:prefix)) DESC, length(name), id"
    " LIMIT :n"
)


def _expanding(sql: str) -> Any:
    return text(sql).bindparams(bindparam("vaults", expanding=True))


SHORT = {"sqlite": _expanding(_SQLITE), "postgresql": text(_POSTGRES)}
#: Whole and prefix name or slug matches (SQLite), for a scan that stopped at the cap.
SQLITE_LOOKUP = _expanding(_SQLITE_LOOKUP)
