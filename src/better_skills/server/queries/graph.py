"""Statements for the graph of skills and their mention links."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select

from better_skills.server.direct import Row, Tx
from better_skills.server.models import skill_links, skills
from better_skills.server.queries.skills import SUMMARY


async def skills_in(
    tx: Tx, vault_ids: Collection[str], *, ids: Collection[str] | None = None
) -> list[Row]:
    """Summaries of the skills of ``vault_ids`` (only ``ids`` among them, if given), by name."""
    if not vault_ids or (ids is not None and not ids):
        return []
    statement = SUMMARY.where(skills.c.vault_id.in_(list(vault_ids)))
    if ids is not None:
        statement = statement.where(skills.c.id.in_(list(ids)))
    return await tx.all(statement.order_by(skills.c.name, skills.c.id))


async def links_touching(tx: Tx, skill_ids: Collection[str]) -> list[Row]:
    """Every mention link from or to one of ``skill_ids`` (or their files), by id."""
    if not skill_ids:
        return []
    ids = list(skill_ids)
    return await tx.all(
        select(skill_links)
        .where(or_(skill_links.c.source_skill_id.in_(ids), skill_links.c.target_skill_id.in_(ids)))
        .order_by(skill_links.c.id)
    )
