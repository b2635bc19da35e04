"""Statements that write a skill, its files and its mention links.

They are constants with bound parameters where the create path needs them: it runs them
through the driver-direct transactions (compiled once, by identity); everything else runs
them through the engine, where they are cached as well."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, delete, insert, update

from better_skills.server.direct import EngineTx, Tx, insert_statement
from better_skills.server.models import skill_files, skill_links, skills


async def insert_skill(tx: Tx, values: dict[str, Any]) -> None:
    await tx.execute(insert(skills).values(**values))


_NEW_SKILL_COLUMNS = (
    "id",
    "vault_id",
    "slug",
    "version",
    "created_by",
    "created_at",
    "name",
    "description",
    "frontmatter",
    "content_hash",
    "file_count",
    "size",
    "updated_at",
)
#: A new skill's row (every column of :data:`_NEW_SKILL_COLUMNS`).
_INSERT_NEW_SKILL = insert_statement(skills, *_NEW_SKILL_COLUMNS)


async def insert_new_skill(tx: Tx, values: dict[str, Any]) -> None:
    """:func:`insert_skill` as a constant statement, for the driver-direct transactions as
    well as the engine. The engine serializes the JSON column itself; the drivers take JSON
    as text."""
    frontmatter = values["frontmatter"]
    if not isinstance(tx, EngineTx):
        frontmatter = json.dumps(frontmatter)
    await tx.execute(_INSERT_NEW_SKILL, {**values, "frontmatter": frontmatter})


async def update_skill(
    tx: Tx, skill_id: str, expected_version: int, values: dict[str, Any]
) -> bool:
    """Conditional on the version read before: of two racing writers exactly one matches."""
    changed = await tx.execute(
        update(skills)
        .where(skills.c.id == skill_id, skills.c.version == expected_version)
        .values(version=skills.c.version + 1, **values)
    )
    return changed == 1


async def delete_skill(tx: Tx, skill_id: str, expected_version: int) -> bool:
    changed = await tx.execute(
        delete(skills).where(skills.c.id == skill_id, skills.c.version == expected_version)
    )
    return changed == 1


_INSERT_FILES = insert_statement(
    skill_files,
    "id",
    "skill_id",
    "path",
    "kind",
    "size",
    "sha256",
    "content",
    "created_at",
    "updated_at",
)


async def insert_files(tx: Tx, rows: list[dict[str, Any]]) -> None:
    if rows:
        await tx.execute_many(_INSERT_FILES, rows)


async def update_file(tx: Tx, file_id: str, values: dict[str, Any]) -> None:
    await tx.execute(update(skill_files).where(skill_files.c.id == file_id).values(**values))


async def delete_files(tx: Tx, ids: Iterable[str]) -> None:
    ids = list(ids)
    if ids:
        await tx.execute(delete(skill_files).where(skill_files.c.id.in_(ids)))


_DELETE_LINKS = delete(skill_links).where(skill_links.c.source_skill_id == bindparam("skill_id"))
_INSERT_LINKS = insert_statement(
    skill_links, "source_skill_id", "source_file_id", "target_skill_id", "target_file_id", "kind"
)


async def replace_links(
    tx: Tx, skill_id: str, rows: list[dict[str, Any]], *, new: bool = False
) -> None:
    """The skill's outgoing mention edges, rebuilt inside the writer's transaction (``new``:
    the skill was made in this transaction, so it has none to delete)."""
    if not new:
        await tx.execute(_DELETE_LINKS, {"skill_id": skill_id})
    if rows:
        await tx.execute_many(_INSERT_LINKS, rows)
