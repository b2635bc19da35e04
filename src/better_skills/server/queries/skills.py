"""Statements over skills, their files and their mention links."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
    tuple_,
    union_all,
)

from better_skills.server.direct import Direct, Row, Tx
from better_skills.server.models import skill_files, skill_links, skills, vault_memberships, vaults

#: A skill summary: the skill's columns and its vault's.
SUMMARY = select(
    skills.c.id,
    skills.c.slug,
    skills.c.name,
    skills.c.description,
    skills.c.content_hash,
    skills.c.file_count,
    skills.c.size,
    skills.c.created_at,
    skills.c.updated_at,
    skills.c.vault_id,
    vaults.c.slug.label("vault_slug"),
    vaults.c.name.label("vault_name"),
    vaults.c.type.label("vault_type"),
).join(vaults, vaults.c.id == skills.c.vault_id)


def _like(value: str) -> str:
    """A LIKE pattern matching ``value`` anywhere, with ``%``, ``_`` and ``\\`` literal."""
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def member_vault_ids(user_id: str) -> Any:
    """The ids of the user's vaults, as a subquery (saves a round trip)."""
    return select(vault_memberships.c.vault_id).where(vault_memberships.c.user_id == user_id)


#: The ids of a user's vaults (``user_id``).
MEMBER_VAULT_IDS = select(vault_memberships.c.vault_id).where(
    vault_memberships.c.user_id == bindparam("user_id")
)


async def list_page(
    direct: Direct,
    user_id: str,
    *,
    vault_id: str | None,
    q: str | None,
    after: tuple[int, str] | None,
    limit: int,
) -> list[Row]:
    """Up to ``limit`` summaries of the user's skills (of one vault, if given), newest first
    (keyset on created_at, id), through the driver (see ``direct``).

    One keyset sub-query per vault, each walking ``ix_skills_vault_id_created_at`` for at most
    ``limit`` rows, merged with UNION ALL and limited again: O(limit x vaults) rows read. A
    single ``vault_id IN (...)`` query instead walks ``ix_skills_created_at`` over everyone's
    skills until it finds ``limit`` of the caller's (seconds at 100,000 skills when the
    caller's vaults hold a small share of them). PostgreSQL reads the caller's vaults in the
    same statement (a LATERAL join per membership: one round trip, not two).
    """
    params: dict[str, Any] = {"limit": limit}
    if q:
        params["pattern"] = _like(q)
    if after is not None:
        params["after_created"], params["after_id"] = after
    if vault_id is None and direct.dialect_name == "postgresql":
        statement = lateral_list_statement(bool(q), after is not None)
        return await direct.fetch_all(statement, {**params, "user_id": user_id})
    if vault_id is not None:
        vault_ids = [vault_id]
    else:
        members = await direct.fetch_all(MEMBER_VAULT_IDS, {"user_id": user_id})
        vault_ids = [r.vault_id for r in members]
    if not vault_ids:
        return []
    params.update({f"v{i}": v for i, v in enumerate(vault_ids)})
    statement = list_statement(len(vault_ids), bool(q), after is not None)
    return await direct.fetch_all(statement, params)


@lru_cache(maxsize=256)
def list_statement(vault_count: int, with_q: bool, with_after: bool) -> Any:
    """The page statement for ``vault_count`` vaults, with bound parameters ``v0``...,
    ``limit``, ``pattern`` and ``after_created``/``after_id``: built (and compiled by
    ``direct``) once per shape, not per request."""
    parts = [
        _vault_page(bindparam(f"v{i}"), with_q, with_after).subquery() for i in range(vault_count)
    ]
    keys = parts[0] if len(parts) == 1 else union_all(*(select(p) for p in parts)).subquery()
    return _summaries_of(select(keys.c.id, keys.c.created_at).select_from(keys))


@lru_cache(maxsize=8)
def lateral_list_statement(with_q: bool, with_after: bool) -> Any:
    """:func:`list_statement` for all of ``user_id``'s vaults on PostgreSQL: the same
    per-vault keyset walk, one LATERAL sub-query per membership row (SQLite has no LATERAL)."""
    m = vault_memberships
    part = _vault_page(m.c.vault_id, with_q, with_after).lateral()
    keys = (
        select(part.c.id, part.c.created_at)
        .select_from(m.join(part, true()))
        .where(m.c.user_id == bindparam("user_id"))
    )
    return _summaries_of(keys)


def _summaries_of(keys: Any) -> Any:
    """The newest ``limit`` of ``keys`` (id, created_at) as summary rows, newest first."""
    keys = keys.subquery()
    page = (
        select(keys.c.id)
        .order_by(keys.c.created_at.desc(), keys.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .subquery()
    )
    return (
        SUMMARY.join(page, page.c.id == skills.c.id)
        .order_by(skills.c.created_at.desc(), skills.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def _vault_page(vault: Any, with_q: bool, with_after: bool) -> Any:
    """The keys (id, created_at) of one vault's newest ``limit`` skills after the cursor
    (matching ``pattern``); ``vault`` is a bound parameter or a correlated column. Keys only:
    without ``q`` PostgreSQL answers it from the index alone; asked for whole rows, its
    planner walked ix_skills_created_at instead and dropped other vaults' rows (16,889 of
    them at 20,000 skills)."""
    statement = select(skills.c.id, skills.c.created_at).where(skills.c.vault_id == vault)
    if with_q:
        pattern = bindparam("pattern")
        statement = statement.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (skills.c.name, skills.c.slug, skills.c.description)
                )
            )
        )
    if with_after:
        # A row-value comparison: both planners turn it into a range on the index.
        statement = statement.where(
            tuple_(skills.c.created_at, skills.c.id)
            < tuple_(
                bindparam("after_created", type_=skills.c.created_at.type), bindparam("after_id")
            )
        )
    return statement.order_by(skills.c.created_at.desc(), skills.c.id.desc()).limit(
        bindparam("limit", type_=Integer)
    )


#: :func:`summary_for_member` with bound ``skill_id`` and ``user_id``, for ``direct``.
SUMMARY_FOR_MEMBER = (
    SUMMARY.add_columns(skills.c.frontmatter, skills.c.version, vault_memberships.c.role)
    .join(
        vault_memberships,
        and_(
            vault_memberships.c.vault_id == skills.c.vault_id,
            vault_memberships.c.user_id == bindparam("user_id"),
        ),
    )
    .where(skills.c.id == bindparam("skill_id"))
)


def _files_of(content: bool) -> Any:
    columns = (*_FILE_META, skill_files.c.content) if content else _FILE_META
    return (
        select(*columns)
        .where(skill_files.c.skill_id == bindparam("skill_id"))
        .order_by(skill_files.c.path)
    )


async def summary_for_member(tx: Tx, skill_id: str, user_id: str) -> Row | None:
    """The skill's summary plus frontmatter, version and the caller's role, if a member."""
    return await tx.first(
        SUMMARY.add_columns(
            skills.c.frontmatter,
            skills.c.version,
            vault_memberships.c.role,
        )
        .join(
            vault_memberships,
            and_(
                vault_memberships.c.vault_id == skills.c.vault_id,
                vault_memberships.c.user_id == user_id,
            ),
        )
        .where(skills.c.id == skill_id)
    )


async def summaries_for_member(tx: Tx, skill_ids: Collection[str], user_id: str) -> list[Row]:
    """:func:`summary_for_member` of several skills at once (those that exist and whose
    vault the user is a member of)."""
    if not skill_ids:
        return []
    return await tx.all(
        SUMMARY.add_columns(skills.c.frontmatter, skills.c.version, vault_memberships.c.role)
        .join(
            vault_memberships,
            and_(
                vault_memberships.c.vault_id == skills.c.vault_id,
                vault_memberships.c.user_id == user_id,
            ),
        )
        .where(skills.c.id.in_(list(skill_ids)))
    )


async def ids_by_slug(tx: Tx, vault_ids: Collection[str], slug: str) -> list[Row]:
    return await tx.all(
        SUMMARY.where(skills.c.vault_id.in_(list(vault_ids)), skills.c.slug == slug).order_by(
            vaults.c.slug
        )
    )


# The statements of a skill write are constants with bound parameters: the create path runs
# them through the driver-direct transactions (compiled once, by identity), and everything
# else through the engine, where they are cached as well.

_SLUG_TAKEN = select(skills.c.id).where(
    skills.c.vault_id == bindparam("vault_id"),
    skills.c.slug == bindparam("slug"),
    skills.c.id != bindparam("except_id"),
)


async def slug_taken(tx: Tx, vault_id: str, slug: str, except_id: str = "") -> bool:
    row = await tx.first(_SLUG_TAKEN, {"vault_id": vault_id, "slug": slug, "except_id": except_id})
    return row is not None


_FILE_META = (
    skill_files.c.id,
    skill_files.c.skill_id,
    skill_files.c.path,
    skill_files.c.kind,
    skill_files.c.size,
    skill_files.c.sha256,
)


#: One skill's files (bound ``skill_id``), by path: with content (True) or without.
FILES_OF = {flag: _files_of(flag) for flag in (False, True)}


async def files(tx: Tx, skill_ids: Collection[str], *, content: bool) -> list[Row]:
    columns = (*_FILE_META, skill_files.c.content) if content else _FILE_META
    return await tx.all(
        select(*columns)
        .where(skill_files.c.skill_id.in_(list(skill_ids)))
        .order_by(skill_files.c.skill_id, skill_files.c.path)
    )


async def file(tx: Tx, skill_id: str, path: str) -> Row | None:
    return await tx.first(
        select(*_FILE_META, skill_files.c.content).where(
            skill_files.c.skill_id == skill_id, skill_files.c.path == path
        )
    )


async def file_ids(tx: Tx, skill_id: str) -> dict[str, tuple[str, str]]:
    """path -> (file id, sha256) of a stored skill."""
    rows = await tx.all(
        select(skill_files.c.path, skill_files.c.id, skill_files.c.sha256).where(
            skill_files.c.skill_id == skill_id
        )
    )
    return {row.path: (row.id, row.sha256) for row in rows}


#: Most ids one target lookup binds; more are read in chunks of this size.
_TARGET_CHUNK = 32


@lru_cache(maxsize=2 * _TARGET_CHUNK)
def _targets_statement(kind: str, count: int) -> Any:
    """The lookup of ``count`` mention targets (bound ``i0``...): one statement per count,
    so the driver-direct transactions compile it once (they take no expanding IN)."""
    ids = [bindparam(f"i{n}") for n in range(count)]
    if kind == "skill":
        return (
            select(
                skills.c.id,
                skills.c.name,
                skills.c.slug,
                skills.c.content_hash,
                skills.c.size,
                skills.c.vault_id,
                vaults.c.slug.label("vault_slug"),
            )
            .join(vaults, vaults.c.id == skills.c.vault_id)
            .where(skills.c.id.in_(ids))
        )
    return (
        select(
            skill_files.c.id,
            skill_files.c.path,
            skill_files.c.skill_id,
            skills.c.name,
            skills.c.slug,
            skills.c.vault_id,
            vaults.c.slug.label("vault_slug"),
        )
        .join(skills, skills.c.id == skill_files.c.skill_id)
        .join(vaults, vaults.c.id == skills.c.vault_id)
        .where(skill_files.c.id.in_(ids))
    )


async def _targets(tx: Tx, kind: str, ids: Collection[str]) -> dict[str, Any]:
    wanted = sorted(ids)
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), _TARGET_CHUNK):
        chunk = wanted[start : start + _TARGET_CHUNK]
        params = {f"i{n}": value for n, value in enumerate(chunk)}
        for row in await tx.all(_targets_statement(kind, len(chunk)), params):
            found[row.id] = row
    return found


async def skill_targets(tx: Tx, ids: Collection[str]) -> dict[str, Any]:
    """id -> row (id, name, slug, content_hash, size, vault_id, vault_slug) of the skills that
    exist."""
    return await _targets(tx, "skill", ids)


async def file_targets(tx: Tx, ids: Collection[str]) -> dict[str, Any]:
    """id -> row (id, path, skill_id, name, slug, vault_id, vault_slug) of the files that exist."""
    return await _targets(tx, "file", ids)


async def references(tx: Tx, skill_id: str, vault_ids: Collection[str]) -> list[Row]:
    """Readable skills whose files mention ``skill_id`` or one of its files, and via which
    of their files (SKILL.md included)."""
    return await tx.all(
        SUMMARY.add_columns(skill_files.c.path.label("via_path"))
        .join(skill_links, skill_links.c.source_skill_id == skills.c.id)
        .join(skill_files, skill_files.c.id == skill_links.c.source_file_id)
        .where(
            skill_links.c.target_skill_id == skill_id,
            skill_links.c.source_skill_id != skill_id,
            skills.c.vault_id.in_(list(vault_ids)),
        )
        .distinct()
        .order_by(skills.c.slug, skill_files.c.path)
    )


def _manifest_statement(include_disabled: bool) -> Any:
    statement = (
        select(
            skills.c.id,
            skills.c.slug,
            skills.c.name,
            skills.c.description,
            skills.c.content_hash,
            skills.c.updated_at,
            vaults.c.id.label("vault_id"),
            vaults.c.slug.label("vault_slug"),
            vaults.c.name.label("vault_name"),
            vaults.c.type.label("vault_type"),
        )
        .select_from(vault_memberships)
        .join(vaults, vaults.c.id == vault_memberships.c.vault_id)
        .join(skills, skills.c.vault_id == vaults.c.id)
        .where(vault_memberships.c.user_id == bindparam("user_id"))
        .order_by(skills.c.id)
    )
    if not include_disabled:
        statement = statement.where(vault_memberships.c.enabled == true())
    return statement


_MANIFEST = {flag: _manifest_statement(flag) for flag in (False, True)}


async def manifest(direct: Direct, user_id: str, *, include_disabled: bool) -> list[Row]:
    """One query: every skill of the user's (enabled) vaults, by id (through the driver)."""
    return await direct.fetch_all(_MANIFEST[include_disabled], {"user_id": user_id})


async def summary_for_member_any(tx: Tx, vault_id: str, slug: str) -> Row | None:
    """A skill by vault and slug with the columns a write needs (no membership: for seeding)."""
    return await tx.first(
        SUMMARY.add_columns(skills.c.version).where(
            skills.c.vault_id == vault_id, skills.c.slug == slug
        )
    )
