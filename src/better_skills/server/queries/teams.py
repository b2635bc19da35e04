"""Statements over team vaults: members, invitations, administrators, account deletion."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from better_skills.server.models import users, vault_invitations, vault_memberships, vaults

#: An invitation with the vault it opens and who sent it.
INVITATION_VIEW = (
    select(
        vault_invitations,
        vaults.c.slug.label("vault_slug"),
        vaults.c.name.label("vault_name"),
        vaults.c.type.label("vault_type"),
        vaults.c.color.label("vault_color"),
        users.c.name.label("inviter_name"),
    )
    .join(vaults, vaults.c.id == vault_invitations.c.vault_id)
    .outerjoin(users, users.c.id == vault_invitations.c.invited_by)
)


async def user_by_email(conn: AsyncConnection, email: str) -> Any | None:
    return (
        await conn.execute(
            select(users.c.id, users.c.name, users.c.email, users.c.is_admin).where(
                users.c.email == email
            )
        )
    ).first()


async def user_by_id(conn: AsyncConnection, user_id: str) -> Any | None:
    return (
        await conn.execute(
            select(users.c.id, users.c.name, users.c.email, users.c.is_admin).where(
                users.c.id == user_id
            )
        )
    ).first()


async def set_admin(conn: AsyncConnection, user_id: str, is_admin: bool, now: int) -> None:
    await conn.execute(
        update(users).where(users.c.id == user_id).values(is_admin=is_admin, updated_at=now)
    )


async def slug_taken(conn: AsyncConnection, slug: str) -> bool:
    found = await conn.execute(
        select(vaults.c.id).where(vaults.c.type != "personal", vaults.c.slug == slug)
    )
    return found.first() is not None


async def insert_team_vault(
    conn: AsyncConnection, slug: str, name: str, color: str | None, now: int
) -> str:
    vault_id = str(uuid.uuid4())
    await conn.execute(
        vaults.insert().values(
            id=vault_id,
            type="team",
            slug=slug,
            name=name,
            color=color,
            owner_user_id=None,
            created_at=now,
            updated_at=now,
        )
    )
    return vault_id


async def update_vault(conn: AsyncConnection, vault_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(vaults).where(vaults.c.id == vault_id).values(**values))


async def members(conn: AsyncConnection, vault_id: str) -> Sequence[Any]:
    """The vault's members, owner first, then admins, then members, each by name."""
    rank = case({"owner": 0, "admin": 1}, value=vault_memberships.c.role, else_=2)
    return (
        await conn.execute(
            select(
                vault_memberships.c.user_id,
                vault_memberships.c.role,
                vault_memberships.c.enabled,
                vault_memberships.c.created_at,
                users.c.name,
                users.c.email,
            )
            .join(users, users.c.id == vault_memberships.c.user_id)
            .where(vault_memberships.c.vault_id == vault_id)
            .order_by(rank, users.c.name, users.c.id)
        )
    ).all()


async def membership(conn: AsyncConnection, vault_id: str, user_id: str) -> Any | None:
    return (
        await conn.execute(
            select(vault_memberships.c.role).where(
                vault_memberships.c.vault_id == vault_id, vault_memberships.c.user_id == user_id
            )
        )
    ).first()


async def count_members(conn: AsyncConnection, vault_id: str) -> int:
    return int(
        (
            await conn.execute(select(func.count()).where(vault_memberships.c.vault_id == vault_id))
        ).scalar_one()
    )


async def set_role(conn: AsyncConnection, vault_id: str, user_id: str, role: str, now: int) -> None:
    await conn.execute(
        update(vault_memberships)
        .where(vault_memberships.c.vault_id == vault_id, vault_memberships.c.user_id == user_id)
        .values(role=role, updated_at=now)
    )


async def remove_member(conn: AsyncConnection, vault_id: str, user_id: str) -> None:
    await conn.execute(
        delete(vault_memberships).where(
            vault_memberships.c.vault_id == vault_id, vault_memberships.c.user_id == user_id
        )
    )


async def pending_invitation(conn: AsyncConnection, vault_id: str, email: str) -> Any | None:
    return (
        await conn.execute(
            select(vault_invitations.c.id).where(
                vault_invitations.c.vault_id == vault_id,
                vault_invitations.c.email == email,
                vault_invitations.c.status == "pending",
            )
        )
    ).first()


async def insert_invitation(conn: AsyncConnection, values: dict[str, Any]) -> str:
    invitation_id = str(uuid.uuid4())
    await conn.execute(vault_invitations.insert().values(id=invitation_id, **values))
    return invitation_id


async def update_invitation(
    conn: AsyncConnection, invitation_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(
        update(vault_invitations).where(vault_invitations.c.id == invitation_id).values(**values)
    )


async def invitation(conn: AsyncConnection, invitation_id: str) -> Any | None:
    return (
        await conn.execute(INVITATION_VIEW.where(vault_invitations.c.id == invitation_id))
    ).first()


async def vault_invitations_pending(
    conn: AsyncConnection, vault_id: str, now: int
) -> Sequence[Any]:
    """The vault's invitations still waiting for an answer (expired ones too, marked by
    their ``expires_at``), newest first."""
    return (
        await conn.execute(
            INVITATION_VIEW.where(
                vault_invitations.c.vault_id == vault_id, vault_invitations.c.status == "pending"
            ).order_by(vault_invitations.c.created_at.desc(), vault_invitations.c.id)
        )
    ).all()


async def invitations_for(conn: AsyncConnection, email: str, now: int) -> Sequence[Any]:
    """Pending, unexpired invitations to ``email``, newest first."""
    return (
        await conn.execute(
            INVITATION_VIEW.where(
                vault_invitations.c.email == email,
                vault_invitations.c.status == "pending",
                vault_invitations.c.expires_at > now,
            ).order_by(vault_invitations.c.created_at.desc(), vault_invitations.c.id)
        )
    ).all()


async def owned_team_vaults(conn: AsyncConnection, user_id: str) -> Sequence[Any]:
    """The team vaults ``user_id`` owns, with how many members each has."""
    others = vault_memberships.alias("others")
    count = (
        select(func.count())
        .select_from(others)
        .where(others.c.vault_id == vaults.c.id)
        .scalar_subquery()
        .label("member_count")
    )
    return (
        await conn.execute(
            select(vaults.c.id, vaults.c.slug, count)
            .join(vault_memberships, vault_memberships.c.vault_id == vaults.c.id)
            .where(
                and_(
                    vault_memberships.c.user_id == user_id,
                    vault_memberships.c.role == "owner",
                    vaults.c.type == "team",
                )
            )
            .order_by(vaults.c.slug)
        )
    ).all()


async def delete_vault(conn: AsyncConnection, vault_id: str) -> None:
    """The vault, and by cascade its memberships, invitations, skills and their files."""
    await conn.execute(delete(vaults).where(vaults.c.id == vault_id))


async def delete_invitations_to(conn: AsyncConnection, email: str) -> None:
    await conn.execute(delete(vault_invitations).where(vault_invitations.c.email == email))


async def delete_user(conn: AsyncConnection, user_id: str) -> None:
    """The user; sessions, tokens, memberships and the personal vault (with its skills)
    go by cascade, and the user's name on skills and invitations becomes NULL."""
    await conn.execute(delete(users).where(users.c.id == user_id))
