"""SQL of shares: the snapshot rows, the outgoing mention edges a snapshot follows."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from better_skills.server.models import skill_links, skill_share_files, skill_shares, skills


async def outgoing(conn: AsyncConnection, skill_ids: Collection[str]) -> Sequence[Any]:
    """(source_skill_id, target_skill_id) of the mention edges leaving ``skill_ids``."""
    if not skill_ids:
        return []
    return (
        await conn.execute(
            select(skill_links.c.source_skill_id, skill_links.c.target_skill_id)
            .where(skill_links.c.source_skill_id.in_(list(skill_ids)))
            .distinct()
        )
    ).all()


async def insert_share(
    conn: AsyncConnection, values: dict[str, Any], files: list[dict[str, Any]]
) -> None:
    await conn.execute(insert(skill_shares).values(**values))
    if files:
        await conn.execute(insert(skill_share_files), files)


async def live(conn: AsyncConnection, share_id: str) -> Any | None:
    """The share's row unless it is revoked."""
    return (
        await conn.execute(
            select(skill_shares).where(
                skill_shares.c.id == share_id, skill_shares.c.revoked_at.is_(None)
            )
        )
    ).first()


async def files(conn: AsyncConnection, share_id: str) -> Sequence[Any]:
    return (
        await conn.execute(
            select(skill_share_files)
            .where(skill_share_files.c.share_id == share_id)
            .order_by(skill_share_files.c.skill_id, skill_share_files.c.path)
        )
    ).all()


async def created_by(conn: AsyncConnection, user_id: str) -> Sequence[Any]:
    """The user's live shares, newest first (no snapshot column: listings stay light)."""
    columns = [c for c in skill_shares.c if c.name != "snapshot"]
    return (
        await conn.execute(
            select(*columns)
            .where(skill_shares.c.created_by == user_id, skill_shares.c.revoked_at.is_(None))
            .order_by(skill_shares.c.created_at.desc(), skill_shares.c.id)
        )
    ).all()


async def revoke(conn: AsyncConnection, share_id: str, user_id: str, now: int) -> bool:
    """Revoke one of the user's live shares; False when there is no such share."""
    result = await conn.execute(
        update(skill_shares)
        .where(
            and_(
                skill_shares.c.id == share_id,
                skill_shares.c.created_by == user_id,
                skill_shares.c.revoked_at.is_(None),
            )
        )
        .values(revoked_at=now)
    )
    return result.rowcount == 1


async def skill_rows(conn: AsyncConnection, ids: Collection[str]) -> Sequence[Any]:
    """What a snapshot keeps of each skill (its files are read with queries.skills.files)."""
    if not ids:
        return []
    return (
        await conn.execute(
            select(
                skills.c.id,
                skills.c.vault_id,
                skills.c.slug,
                skills.c.name,
                skills.c.description,
                skills.c.frontmatter,
                skills.c.content_hash,
                skills.c.size,
            ).where(skills.c.id.in_(list(ids)))
        )
    ).all()


async def slugs_in(conn: AsyncConnection, vault_id: str) -> set[str]:
    rows = await conn.execute(select(skills.c.slug).where(skills.c.vault_id == vault_id))
    return set(rows.scalars())
