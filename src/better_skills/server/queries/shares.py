"""SQL of shares: the snapshot rows, the outgoing mention edges a snapshot follows."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, insert, select, update

from better_skills.server.direct import Row, Tx
from better_skills.server.models import skill_links, skill_share_files, skill_shares, skills


async def outgoing(tx: Tx, skill_ids: Collection[str]) -> list[Row]:
    """(source_skill_id, target_skill_id) of the mention edges leaving ``skill_ids``."""
    if not skill_ids:
        return []
    return await tx.all(
        select(skill_links.c.source_skill_id, skill_links.c.target_skill_id)
        .where(skill_links.c.source_skill_id.in_(list(skill_ids)))
        .distinct()
    )


async def insert_share(tx: Tx, values: dict[str, Any], files: list[dict[str, Any]]) -> None:
    await tx.execute(insert(skill_shares).values(**values))
    if files:
        await tx.execute_many(insert(skill_share_files), files)


async def live(tx: Tx, share_id: str) -> Row | None:
    """The share's row unless it is revoked."""
    return await tx.first(
        select(skill_shares).where(
            skill_shares.c.id == share_id, skill_shares.c.revoked_at.is_(None)
        )
    )


async def files(tx: Tx, share_id: str) -> list[Row]:
    return await tx.all(
        select(skill_share_files)
        .where(skill_share_files.c.share_id == share_id)
        .order_by(skill_share_files.c.skill_id, skill_share_files.c.path)
    )


async def created_by(tx: Tx, user_id: str) -> list[Row]:
    """The user's live shares, newest first (no snapshot column: listings stay light)."""
    columns = [c for c in skill_shares.c if c.name != "snapshot"]
    return await tx.all(
        select(*columns)
        .where(skill_shares.c.created_by == user_id, skill_shares.c.revoked_at.is_(None))
        .order_by(skill_shares.c.created_at.desc(), skill_shares.c.id)
    )


async def revoke(tx: Tx, share_id: str, user_id: str, now: int) -> bool:
    """Revoke one of the user's live shares; False when there is no such share."""
    changed = await tx.execute(
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
    return changed == 1


async def skill_rows(tx: Tx, ids: Collection[str]) -> list[Row]:
    """What a snapshot keeps of each skill (its files are read with queries.skills.files)."""
    if not ids:
        return []
    return await tx.all(
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


async def slugs_in(tx: Tx, vault_id: str) -> set[str]:
    rows = await tx.all(select(skills.c.slug).where(skills.c.vault_id == vault_id))
    return {r.slug for r in rows}
