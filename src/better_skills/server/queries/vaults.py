"""Statements over vaults and memberships."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from better_skills.server.direct import Direct, Row, Tx
from better_skills.server.models import skills, users, vault_memberships, vaults

SYSTEM_SLUG = "system-default"
SYSTEM_NAME = "Default Skills"
SYSTEM_COLOR = "#0f766e"
#: Fixed, so that replicas starting together insert the same row (and one of them wins).
SYSTEM_VAULT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "better-skills:vault:system-default"))

_skill_count = (
    select(func.count())
    .where(skills.c.vault_id == vaults.c.id)
    .scalar_subquery()
    .label("skill_count")
)

#: A vault as one member sees it: the vault's columns plus the member's role and switch.
MEMBER_VIEW = select(
    vaults.c.id,
    vaults.c.slug,
    vaults.c.name,
    vaults.c.type,
    vaults.c.color,
    vault_memberships.c.role,
    vault_memberships.c.enabled,
).join(vault_memberships, vault_memberships.c.vault_id == vaults.c.id)


def _insert_ignoring_conflicts(tx: Tx, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the connection's dialect."""
    dialect = postgresql if tx.dialect == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


async def insert_personal_vault(tx: Tx, user_id: str, name: str, now: int) -> str:
    vault_id = str(uuid.uuid4())
    await tx.execute(
        vaults.insert().values(
            id=vault_id,
            type="personal",
            slug="personal",
            name=f"{name}'s Vault"[:200],
            color=None,
            owner_user_id=user_id,
            created_at=now,
            updated_at=now,
        )
    )
    await insert_membership(tx, vault_id, user_id, "owner", now)
    return vault_id


async def insert_membership(tx: Tx, vault_id: str, user_id: str, role: str, now: int) -> None:
    await tx.execute(
        _insert_ignoring_conflicts(tx, vault_memberships).values(
            vault_id=vault_id,
            user_id=user_id,
            role=role,
            enabled=True,
            created_at=now,
            updated_at=now,
        )
    )


async def ensure_system_vault(tx: Tx, now: int) -> None:
    await tx.execute(
        _insert_ignoring_conflicts(tx, vaults).values(
            id=SYSTEM_VAULT_ID,
            type="system",
            slug=SYSTEM_SLUG,
            name=SYSTEM_NAME,
            color=SYSTEM_COLOR,
            owner_user_id=None,
            created_at=now,
            updated_at=now,
        )
    )


async def backfill_system_memberships(tx: Tx, now: int) -> int:
    """Make every user a member of the system vault; the number of memberships added."""
    missing = select(
        literal(SYSTEM_VAULT_ID),
        users.c.id,
        literal("member"),
        true(),
        literal(now),
        literal(now),
    ).where(
        ~exists().where(
            and_(
                vault_memberships.c.vault_id == SYSTEM_VAULT_ID,
                vault_memberships.c.user_id == users.c.id,
            )
        )
    )
    statement = _insert_ignoring_conflicts(tx, vault_memberships).from_select(
        ["vault_id", "user_id", "role", "enabled", "created_at", "updated_at"], missing
    )
    return await tx.execute(statement)


async def users_without_personal_vault(tx: Tx) -> list[Row]:
    return await tx.all(
        select(users.c.id, users.c.name).where(
            ~exists().where(and_(vaults.c.owner_user_id == users.c.id, vaults.c.type == "personal"))
        )
    )


async def memberships(tx: Tx, user_id: str) -> list[Row]:
    """The user's vaults (enabled or not) with their skill counts: personal, system, teams."""
    return await tx.all(
        MEMBER_VIEW.add_columns(_skill_count)
        .where(vault_memberships.c.user_id == user_id)
        .order_by(vaults.c.type, vaults.c.slug)
    )


async def vault_ids(tx: Tx, user_id: str, *, enabled_only: bool = False) -> list[str]:
    statement = select(vault_memberships.c.vault_id).where(vault_memberships.c.user_id == user_id)
    if enabled_only:
        statement = statement.where(vault_memberships.c.enabled == true())
    return [r.vault_id for r in await tx.all(statement)]


async def find_for_member(tx: Tx, user_id: str, ref: str) -> Row | None:
    """One of the user's vaults by id or slug (``personal`` is the user's own), or None."""
    ref = ref.strip()
    by_slug = (
        and_(vaults.c.type == "personal", vaults.c.owner_user_id == user_id)
        if ref.lower() == "personal"
        else and_(vaults.c.type != "personal", vaults.c.slug == ref.lower())
    )
    return await tx.first(
        MEMBER_VIEW.add_columns(_skill_count).where(
            vault_memberships.c.user_id == user_id, or_(vaults.c.id == ref, by_slug)
        )
    )


#: One of the user's vaults (``user_id``) by id (``ref``) or, for a writer, without its
#: skill count (a count of every skill in the vault per write): by the ``personal`` slug or a
#: team's slug (``slug``, lower-cased).
_WRITABLE = {
    personal: MEMBER_VIEW.where(
        vault_memberships.c.user_id == bindparam("user_id"),
        or_(
            vaults.c.id == bindparam("ref"),
            and_(vaults.c.type == "personal", vaults.c.owner_user_id == bindparam("user_id"))
            if personal
            else and_(vaults.c.type != "personal", vaults.c.slug == bindparam("slug")),
        ),
    )
    for personal in (True, False)
}


async def find_for_writer(tx: Tx, user_id: str, ref: str) -> Row | None:
    """:func:`find_for_member` without ``skill_count`` (0), for writes: one indexed read."""
    ref = ref.strip()
    personal = ref.lower() == "personal"
    return await tx.first(
        _WRITABLE[personal], {"user_id": user_id, "ref": ref, "slug": ref.lower()}
    )


async def set_enabled(tx: Tx, user_id: str, vault_id: str, enabled: bool, now: int) -> bool:
    changed = await tx.execute(
        update(vault_memberships)
        .where(vault_memberships.c.user_id == user_id, vault_memberships.c.vault_id == vault_id)
        .values(enabled=enabled, updated_at=now)
    )
    return bool(changed)


def _bump(count: int) -> Any:
    ids = [bindparam(f"v{n}") for n in range(count)]
    return update(vaults).where(vaults.c.id.in_(ids)).values(revision=vaults.c.revision + 1)


#: The revision bump of one vault (``v0``) or two (``v0``, ``v1``: both ends of a move),
#: constants so the driver-direct transactions compile them once.
_BUMP = {1: _bump(1), 2: _bump(2)}


async def bump_revision(tx: Tx, *vault_ids: str) -> None:
    """Mark the vaults' skills as changed (the sync manifest's ETag follows the revision)."""
    ids = sorted(set(vault_ids))  # one lock order, so two movers cannot deadlock
    for start in range(0, len(ids), 2):
        chunk = ids[start : start + 2]
        await tx.execute(_BUMP[len(chunk)], {f"v{n}": v for n, v in enumerate(chunk)})


#: Per membership (``user_id``): what decides the sync manifest besides the skill rows.
MANIFEST_VALIDATORS = (
    select(
        vaults.c.id,
        vaults.c.revision,
        vaults.c.type,
        vaults.c.slug,
        vaults.c.name,
        vault_memberships.c.role,
        vault_memberships.c.enabled,
    )
    .join(vault_memberships, vault_memberships.c.vault_id == vaults.c.id)
    .where(vault_memberships.c.user_id == bindparam("user_id"))
    .order_by(vaults.c.id)
)


async def manifest_validators(direct: Direct, user_id: str) -> list[Row]:
    """Per membership: what decides the sync manifest besides the skill rows themselves
    (through the driver: it is all a 304 costs)."""
    return await direct.fetch_all(MANIFEST_VALIDATORS, {"user_id": user_id})
