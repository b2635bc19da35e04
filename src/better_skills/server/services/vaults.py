"""Vaults and memberships: the personal vault made with each account, the system vault,
and each member's view of their vaults."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from better_skills.protocol import errors
from better_skills.server.db import Database
from better_skills.server.direct import Tx
from better_skills.server.queries import vaults as q
from better_skills.server.services import Clock, to_ms
from better_skills.server.services.permissions import access

log = logging.getLogger("better_skills.server.vaults")


@dataclass(frozen=True)
class VaultRef:
    """A vault as it is embedded in skill outputs."""

    id: str
    slug: str
    name: str
    type: str


@dataclass(frozen=True)
class Vault:
    """A vault as one member sees it."""

    id: str
    slug: str
    name: str
    type: str
    color: str | None
    role: str
    enabled: bool
    can_write: bool
    can_admin: bool
    skill_count: int
    read_only_reason: str | None = None

    @property
    def ref(self) -> VaultRef:
        return VaultRef(self.id, self.slug, self.name, self.type)


def vault_from_row(row: Any) -> Vault:
    rights = access(row.type, row.role)
    return Vault(
        id=row.id,
        slug=row.slug,
        name=row.name,
        type=row.type,
        color=row.color,
        role=row.role,
        enabled=bool(row.enabled),
        can_write=rights.can_write,
        can_admin=rights.can_admin,
        skill_count=int(getattr(row, "skill_count", 0) or 0),
        read_only_reason=rights.read_only_reason,
    )


async def bootstrap_user(tx: Tx, user_id: str, name: str, now: int) -> None:
    """Inside the sign-up transaction: the user's personal vault (owner) and membership of
    the system vault."""
    await q.insert_personal_vault(tx, user_id, name, now)
    await q.ensure_system_vault(tx, now)
    await q.insert_membership(tx, q.SYSTEM_VAULT_ID, user_id, "member", now)


def _refuse_unusable(ref: str) -> None:
    """No vault is named with a control character or lone surrogate (which the databases
    would refuse with an error, not an empty answer)."""
    if len(ref) > 100 or not ref.isprintable():
        raise errors.NotFound("Vault not found.")


async def find_member_vault(tx: Tx, user_id: str, ref: str) -> Vault:
    """One of the user's vaults by slug or id; 404 for anything else."""
    _refuse_unusable(ref)
    row = await q.find_for_member(tx, user_id, ref)
    if row is None:
        raise errors.NotFound("Vault not found.")
    return vault_from_row(row)


async def find_vault_to_write(tx: Tx, user_id: str, ref: str) -> Vault:
    """:func:`find_member_vault` for a write: the same vault and rights, without the vault's
    skill count (``skill_count`` 0), which would count every skill in it per write."""
    _refuse_unusable(ref)
    row = await q.find_for_writer(tx, user_id, ref)
    if row is None:
        raise errors.NotFound("Vault not found.")
    return vault_from_row(row)


class VaultService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def ensure_defaults(self) -> None:
        """At start-up, idempotently: the system vault, every user a member of it, and a
        personal vault for users made before the vault existed."""
        now = to_ms(self._clock())
        async with self._db.write() as tx:
            await q.ensure_system_vault(tx, now)
            for user in await q.users_without_personal_vault(tx):
                await q.insert_personal_vault(tx, user.id, user.name, now)
            added = await q.backfill_system_memberships(tx, now)
        if added:
            log.info("system vault: %d member(s) added", added)

    async def list_for(self, user_id: str) -> list[Vault]:
        async with self._db.read() as tx:
            return [vault_from_row(row) for row in await q.memberships(tx, user_id)]

    async def get_for(self, user_id: str, ref: str) -> Vault:
        async with self._db.read() as tx:
            return await find_member_vault(tx, user_id, ref)

    async def set_enabled(self, user_id: str, vault_id: str, enabled: bool) -> Vault:
        """The member's own switch: a disabled vault is left out of sync."""
        _refuse_unusable(vault_id)
        async with self._db.write() as tx:
            if not await q.set_enabled(tx, user_id, vault_id, enabled, to_ms(self._clock())):
                raise errors.NotFound("Vault not found.")
            return await find_member_vault(tx, user_id, vault_id)
