"""Statements for the graph of skills and their mention links."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from better_skills.server.models import skill_links, skills
from better_skills.server.queries.skills import SUMMARY


async def skills_in(
    conn: AsyncConnection, vault_ids: Collection[str], *, ids: Collection[str] | None = None
) -> Sequence[Any]:
    """Summaries of the skills of ``vault_ids`` (only ``ids`` among them, if given), by name."""
    if not vault_ids or (ids is not None and not ids):
        return []
    statement = SUMMARY.where(skills.c.vault_id.in_(list(vault_ids)))
    if ids is not None:
        statement = statement.where(skills.c.id.in_(list(ids)))
    return (await conn.execute(statement.order_by(skills.c.name, skills.c.id))).all()


async def links_touching(conn: AsyncConnection, skill_ids: Collection[str]) -> Sequence[Any]:
    """Every mention link from or to one of ``skill_ids`` (or their files), by id."""
    if not skill_ids:
        return []
    ids = list(skill_ids)
    return (
        await conn.execute(
            select(skill_links)
            .where(
                or_(skill_links.c.source_skill_id.in_(ids), skill_links.c.target_skill_id.in_(ids))
            )
            .order_by(skill_links.c.id)
        )
    ).all()
