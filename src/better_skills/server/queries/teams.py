"""Statements over team vaults: members, invitations, administrators, account deletion."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, case, delete, func, select, update

from better_skills.server.direct import Row, Tx
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


async def user_by_email(tx: Tx, email: str) -> Row | None:
    return await tx.first(
        select(users.c.id, users.c.name, users.c.email, users.c.is_admin).where(
            users.c.email == email
        )
    )


async def user_by_id(tx: Tx, user_id: str) -> Row | None:
    return await tx.first(
        select(users.c.id, users.c.name, users.c.email, users.c.is_admin).where(
            users.c.id == user_id
        )
    )


async def set_admin(tx: Tx, user_id: str, is_admin: bool, now: int) -> None:
    await tx.execute(
        update(users).where(users.c.id == user_id).values(is_admin=is_admin, updated_at=now)
    )


async def slug_taken(tx: Tx, slug: str) -> bool:
    found = await tx.first(
        select(vaults.c.id).where(vaults.c.type != "personal", vaults.c.slug == slug)
    )
    return found is not None


async def insert_team_vault(tx: Tx, slug: str, name: str, color: str | None, now: int) -> str:
    vault_id = str(uuid.uuid4())
    await tx.execute(
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


async def update_vault(tx: Tx, vault_id: str, values: dict[str, Any]) -> None:
    await tx.execute(update(vaults).where(vaults.c.id == vault_id).values(**values))


async def members(tx: Tx, vault_id: str) -> list[Row]:
    """The vault's members, owner first, then admins, then members, each by name."""
    rank = case({"owner": 0, "admin": 1}, value=vault_memberships.c.role, else_=2)
    return await tx.all(
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


async def membership(tx: Tx, vault_id: str, user_id: str) -> Row | None:
    return await tx.first(
        select(vault_memberships.c.role).where(
            vault_memberships.c.vault_id == vault_id, vault_memberships.c.user_id == user_id
        )
    )


async def count_members(tx: Tx, vault_id: str) -> int:
    return int(
        await tx.scalar(select(func.count()).where(vault_memberships.c.vault_id == vault_id))
    )


async def set_role(tx: Tx, vault_id: str, user_id: str, role: str, now: int) -> None:
    await tx.execute(
        update(vault_memberships)
        .where(vault_memberships.c.vault_id == vault_id, vault_memberships.c.user_id == user_id)
        .values(role=role, updated_at=now)
    )


async def remove_member(tx: Tx, vault_id: str, user_id: str) -> None:
    await tx.execute(
        delete(vault_memberships).where(
            vault_memberships.c.vault_id == vault_id, vault_memberships.c.user_id == user_id
        )
    )


async def pending_invitation(tx: Tx, vault_id: str, email: str) -> Row | None:
    return await tx.first(
        select(vault_invitations.c.id).where(
            vault_invitations.c.vault_id == vault_id,
            vault_invitations.c.email == email,
            vault_invitations.c.status == "pending",
        )
    )


async def insert_invitation(tx: Tx, values: dict[str, Any]) -> str:
    invitation_id = str(uuid.uuid4())
    await tx.execute(vault_invitations.insert().values(id=invitation_id, **values))
    return invitation_id


async def update_invitation(tx: Tx, invitation_id: str, values: dict[str, Any]) -> None:
    await tx.execute(
        update(vault_invitations).where(vault_invitations.c.id == invitation_id).values(**values)
    )


async def invitation(tx: Tx, invitation_id: str) -> Row | None:
    return await tx.first(INVITATION_VIEW.where(vault_invitations.c.id == invitation_id))


async def vault_invitations_pending(tx: Tx, vault_id: str, now: int) -> list[Row]:
    """The vault's invitations still waiting for an answer (expired ones too, marked by
    their ``expires_at``), newest first."""
    return await tx.all(
        INVITATION_VIEW.where(
            vault_invitations.c.vault_id == vault_id, vault_invitations.c.status == "pending"
        ).order_by(vault_invitations.c.created_at.desc(), vault_invitations.c.id)
    )


async def invitations_for(tx: Tx, email: str, now: int) -> list[Row]:
    """Pending, unexpired invitations to ``email``, newest first."""
    return await tx.all(
        INVITATION_VIEW.where(
            vault_invitations.c.email == email,
            vault_invitations.c.status == "pending",
            vault_invitations.c.expires_at > now,
        ).order_by(vault_invitations.c.created_at.desc(), vault_invitations.c.id)
    )


async def owned_team_vaults(tx: Tx, user_id: str) -> list[Row]:
    """The team vaults ``user_id`` owns, with how many members each has."""
    others = vault_memberships.alias("others")
    count = (
        select(func.count())
        .select_from(others)
        .where(others.c.vault_id == vaults.c.id)
        .scalar_subquery()
        .label("member_count")
    )
    return await tx.all(
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


async def delete_vault(tx: Tx, vault_id: str) -> None:
    """The vault, and by cascade its memberships, invitations, skills and their files."""
    await tx.execute(delete(vaults).where(vaults.c.id == vault_id))


async def delete_invitations_to(tx: Tx, email: str) -> None:
    await tx.execute(delete(vault_invitations).where(vault_invitations.c.email == email))


async def delete_user(tx: Tx, user_id: str) -> None:
    """The user; sessions, tokens, memberships and the personal vault (with its skills)
    go by cascade, and the user's name on skills and invitations becomes NULL."""
    await tx.execute(delete(users).where(users.c.id == user_id))
