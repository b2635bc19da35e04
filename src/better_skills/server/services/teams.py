"""Team vaults: creation, members and roles, invitations by email, leaving, transferring
ownership, and deleting an account (which leaves its team vaults).

Rules (original-system.md §1.10 and §2.2, with "enterprise" called "team"):

* whoever is not a member of a vault gets 404 for anything about it;
* the owner and admins manage a team vault (members, roles, invitations, name, colour);
  only the owner transfers ownership; the owner cannot be removed, demoted, or leave;
* personal and system vaults have no members to manage, and cannot be left: 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from better_skills.protocol import errors
from better_skills.server.db import Database
from better_skills.server.direct import Conflict, Tx
from better_skills.server.queries import teams as q
from better_skills.server.queries import vaults as vq
from better_skills.server.services import Clock, to_ms
from better_skills.server.services.accounts import AccountError, normalize_email
from better_skills.server.services.rate_limit import WriteLimits
from better_skills.server.services.vaults import Vault, find_member_vault

#: How long an invitation stays valid.
INVITATION_DAYS = 14
INVITATION_MS = INVITATION_DAYS * 86_400_000
#: Roles an invitation or a role change can give (ownership moves only by transfer).
GRANTABLE = ("admin", "member")
#: Who may create team vaults: the TEAM_VAULTS setting.
TEAM_VAULT_POLICIES = ("anyone", "admins")

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_SLUG_RUNS = re.compile(r"[^a-z0-9]+")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED_SLUGS = frozenset({"personal", vq.SYSTEM_SLUG})
MAX_NAME = 200


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    email: str
    role: str
    enabled: bool
    joined_at: int


@dataclass(frozen=True)
class Invitation:
    id: str
    vault_id: str
    vault_slug: str
    vault_name: str
    vault_type: str
    vault_color: str | None
    email: str
    role: str
    status: str
    invited_by: str | None
    inviter_name: str | None
    created_at: int
    expires_at: int

    def expired(self, now: int) -> bool:
        return self.status == "pending" and self.expires_at <= now


@dataclass(frozen=True)
class AccountDeleted:
    """What deleting an account did besides removing the user."""

    deleted_vaults: list[str]  # slugs of team vaults the user owned alone
    left_vaults: list[str]  # slugs of team vaults the user was a member of


def invitation_from_row(row: Any) -> Invitation:
    return Invitation(
        id=row.id,
        vault_id=row.vault_id,
        vault_slug=row.vault_slug,
        vault_name=row.vault_name,
        vault_type=row.vault_type,
        vault_color=row.vault_color,
        email=row.email,
        role=row.role,
        status=row.status,
        invited_by=row.invited_by,
        inviter_name=row.inviter_name,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _invalid(field: str, message: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(message, details=[{"path": field, "message": message}])


def team_slug(raw: str | None, name: str) -> str:
    """The slug of a new team vault: the one given, else the name made URL-safe; 1-64 of
    ``a-z 0-9 -``, starting with a letter or digit, not ``personal`` or ``system-default``."""
    if raw is None or not raw.strip():
        slug = _SLUG_RUNS.sub("-", name.lower()).strip("-")[:64].rstrip("-")
        if not slug:
            raise _invalid("slug", "The name has no letters or digits to make a slug of; give one.")
    else:
        slug = raw.strip().lower()
    if not _SLUG.fullmatch(slug):
        raise _invalid(
            "slug",
            "A vault slug is 1 to 64 characters: lowercase letters, digits and '-', starting "
            "with a letter or digit.",
        )
    if slug in RESERVED_SLUGS:
        raise _invalid("slug", f'The slug "{slug}" is reserved.')
    return slug


def vault_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise _invalid("name", f"A vault name is 1 to {MAX_NAME} printable characters.")
    return name


def vault_color(raw: str | None) -> str | None:
    """``#RRGGBB`` (stored lower-case), or None for no colour."""
    if raw is None or raw.strip() == "":
        return None
    if not _COLOR.fullmatch(raw.strip()):
        raise _invalid("color", "A colour is #RRGGBB, such as #0f766e.")
    return raw.strip().lower()


def invitee_email(raw: str) -> str:
    try:
        return normalize_email(raw)
    except AccountError:
        raise _invalid("email", "Enter a valid email address.") from None


def _slug_taken(slug: str) -> errors.Conflict:
    return errors.Conflict(
        f'A vault called "{slug}" already exists; choose another slug.',
        details=[{"path": slug, "message": "This slug is taken."}],
    )


def _refuse_unusable(ref: str) -> None:
    if len(ref) > 100 or not ref.isprintable():
        raise errors.NotFound("Not found.")


class TeamService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: str = "anyone",
        write_limits: WriteLimits | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.policy = policy
        self._write_limits = write_limits

    def _now(self) -> int:
        return to_ms(self._clock())

    # -- creating and changing team vaults -----------------------------------------------

    async def create_vault(
        self, user_id: str, name: str, slug: str | None = None, color: str | None = None
    ) -> Vault:
        """A new team vault owned by ``user_id`` (TEAM_VAULTS=admins: administrators only)."""
        name = vault_name(name)
        chosen, color = team_slug(slug, name), vault_color(color)
        try:
            return await self._create(user_id, name, chosen, color)
        except Conflict:  # a concurrent create took the slug between check and insert
            raise _slug_taken(chosen) from None

    async def _create(self, user_id: str, name: str, chosen: str, color: str | None) -> Vault:
        async with self._db.write() as tx:
            if self.policy == "admins":
                me = await q.user_by_id(tx, user_id)
                if me is None or not me.is_admin:
                    raise errors.Forbidden(
                        "Only server administrators can create team vaults on this server "
                        "(TEAM_VAULTS=admins)."
                    )
            vault_id = await self._insert_vault(tx, chosen, name, color)
            await vq.insert_membership(tx, vault_id, user_id, "owner", self._now())
            return await find_member_vault(tx, user_id, vault_id)

    async def admin_create_vault(
        self, name: str, owner_email: str, slug: str | None = None, color: str | None = None
    ) -> Vault:
        """``better-skills-server admin create-vault``: for an existing account, whatever
        TEAM_VAULTS says."""
        name = vault_name(name)
        chosen, color = team_slug(slug, name), vault_color(color)
        email = invitee_email(owner_email)
        try:
            return await self._admin_create(name, email, chosen, color)
        except Conflict:
            raise _slug_taken(chosen) from None

    async def _admin_create(self, name: str, email: str, chosen: str, color: str | None) -> Vault:
        async with self._db.write() as tx:
            owner = await q.user_by_email(tx, email)
            if owner is None:
                raise errors.NotFound(f"No account has the email {email}.")
            vault_id = await self._insert_vault(tx, chosen, name, color)
            await vq.insert_membership(tx, vault_id, owner.id, "owner", self._now())
            return await find_member_vault(tx, owner.id, vault_id)

    async def _insert_vault(self, tx: Tx, slug: str, name: str, color: str | None) -> str:
        if await q.slug_taken(tx, slug):
            raise _slug_taken(slug)
        return await q.insert_team_vault(tx, slug, name, color, self._now())

    async def update_vault(
        self,
        user_id: str,
        vault_ref: str,
        *,
        name: str | None = None,
        color: str | None = None,
        set_color: bool = False,
    ) -> Vault:
        """Rename a team vault or change its colour (owner or admin)."""
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = vault_name(name)
        if set_color:
            values["color"] = vault_color(color)
        async with self._db.write() as tx:
            vault = await self._managed(tx, user_id, vault_ref)
            if values:
                await q.update_vault(tx, vault.id, {**values, "updated_at": self._now()})
            return await find_member_vault(tx, user_id, vault.id)

    async def set_admin(self, email: str, is_admin: bool) -> str:
        """``admin grant`` / ``admin revoke``: the account's (normalised) email."""
        email = invitee_email(email)
        async with self._db.write() as tx:
            user = await q.user_by_email(tx, email)
            if user is None:
                raise errors.NotFound(f"No account has the email {email}.")
            await q.set_admin(tx, user.id, is_admin, self._now())
            return str(user.email)

    # -- members -------------------------------------------------------------------------

    async def _member_vault(self, tx: Tx, user_id: str, ref: str) -> Vault:
        """A vault of the caller (404 otherwise) that is a team vault (400 otherwise)."""
        _refuse_unusable(ref)
        vault = await find_member_vault(tx, user_id, ref)
        if vault.type != "team":
            kind = "your personal vault" if vault.type == "personal" else "the system vault"
            raise errors.InvalidRequest(
                f"Only team vaults have members and invitations; {vault.slug} is {kind}."
            )
        return vault

    async def _managed(self, tx: Tx, user_id: str, ref: str) -> Vault:
        vault = await self._member_vault(tx, user_id, ref)
        if vault.role not in ("owner", "admin"):
            raise errors.Forbidden("Only the vault's owner or an admin can manage it.")
        return vault

    async def _target(self, tx: Tx, vault_id: str, ref: str) -> Member:
        """A member of the vault by user id or email; 404 otherwise."""
        _refuse_unusable(ref)
        wanted = ref.strip().lower()
        for member in await self._members(tx, vault_id):
            if wanted in (member.user_id.lower(), member.email):
                return member
        raise errors.NotFound("That person is not a member of this vault.")

    @staticmethod
    async def _members(tx: Tx, vault_id: str) -> list[Member]:
        return [
            Member(r.user_id, r.name, r.email, r.role, bool(r.enabled), r.created_at)
            for r in await q.members(tx, vault_id)
        ]

    async def members(self, user_id: str, vault_ref: str) -> tuple[Vault, list[Member]]:
        async with self._db.read() as tx:
            vault = await self._managed(tx, user_id, vault_ref)
            return vault, await self._members(tx, vault.id)

    async def change_role(self, user_id: str, vault_ref: str, target_ref: str, role: str) -> Member:
        if role not in GRANTABLE:
            raise _invalid("role", "A role is admin or member (ownership moves by transfer).")
        async with self._db.write() as tx:
            vault = await self._managed(tx, user_id, vault_ref)
            target = await self._target(tx, vault.id, target_ref)
            if target.role == "owner":
                raise errors.InvalidRequest(
                    "The owner's role cannot be changed; transfer ownership instead."
                )
            await q.set_role(tx, vault.id, target.user_id, role, self._now())
            return await self._target(tx, vault.id, target.user_id)

    async def remove_member(self, user_id: str, vault_ref: str, target_ref: str) -> None:
        async with self._db.write() as tx:
            vault = await self._managed(tx, user_id, vault_ref)
            target = await self._target(tx, vault.id, target_ref)
            if target.role == "owner":
                raise errors.InvalidRequest("The owner cannot be removed from the vault.")
            await q.remove_member(tx, vault.id, target.user_id)

    async def leave(self, user_id: str, vault_ref: str) -> Vault:
        async with self._db.write() as tx:
            vault = await self._member_vault(tx, user_id, vault_ref)
            if vault.role == "owner":
                raise errors.InvalidRequest(
                    "The owner cannot leave the vault: transfer ownership to another member first."
                )
            await q.remove_member(tx, vault.id, user_id)
            return vault

    async def transfer(self, user_id: str, vault_ref: str, target_ref: str) -> Vault:
        """Make another member the owner; the old owner stays on as an admin."""
        async with self._db.write() as tx:
            vault = await self._member_vault(tx, user_id, vault_ref)
            if vault.role != "owner":
                raise errors.Forbidden("Only the vault's owner can transfer ownership.")
            target = await self._target(tx, vault.id, target_ref)
            if target.user_id == user_id:
                raise errors.InvalidRequest("You already own this vault.")
            now = self._now()
            await q.set_role(tx, vault.id, user_id, "admin", now)
            await q.set_role(tx, vault.id, target.user_id, "owner", now)
            return await find_member_vault(tx, user_id, vault.id)

    # -- invitations ---------------------------------------------------------------------

    async def invite(
        self, user_id: str, my_email: str, vault_ref: str, email: str, role: str = "member"
    ) -> Invitation:
        """Invite ``email`` with ``role``; inviting again refreshes the pending invitation
        (role, inviter, 14 more days). Invitations spend the account's write budget
        (``RATE_LIMIT_WRITES``), so one account cannot flood addresses with them."""
        if self._write_limits is not None:
            await self._write_limits.charge(user_id)
        if role not in GRANTABLE:
            raise _invalid("role", "A role is admin or member.")
        email = invitee_email(email)
        try:
            return await self._invite(user_id, my_email, vault_ref, email, role)
        except Conflict:  # two invitations of one address at once: one wins
            raise errors.Conflict(
                f"{email} was invited by someone else at the same moment; try again."
            ) from None

    async def _invite(
        self, user_id: str, my_email: str, vault_ref: str, email: str, role: str
    ) -> Invitation:
        async with self._db.write() as tx:
            vault = await self._managed(tx, user_id, vault_ref)
            if email == my_email.strip().lower():
                raise errors.InvalidRequest("You cannot invite yourself.")
            if any(m.email == email for m in await self._members(tx, vault.id)):
                raise errors.Conflict(f"{email} is already a member of {vault.slug}.")
            now = self._now()
            values = {"role": role, "invited_by": user_id, "updated_at": now}
            values["expires_at"] = now + INVITATION_MS
            existing = await q.pending_invitation(tx, vault.id, email)
            if existing is not None:
                await q.update_invitation(tx, existing.id, values)
                invitation_id = existing.id
            else:
                invitation_id = await q.insert_invitation(
                    tx,
                    {
                        **values,
                        "vault_id": vault.id,
                        "email": email,
                        "status": "pending",
                        "created_at": now,
                    },
                )
            row = await q.invitation(tx, invitation_id)
            return invitation_from_row(row)

    async def vault_invitations(self, user_id: str, vault_ref: str) -> list[Invitation]:
        """The vault's pending invitations (owner or admin)."""
        async with self._db.read() as tx:
            vault = await self._managed(tx, user_id, vault_ref)
            rows = await q.vault_invitations_pending(tx, vault.id, self._now())
            return [invitation_from_row(r) for r in rows]

    async def revoke_invitation(self, user_id: str, vault_ref: str, invitation_id: str) -> None:
        _refuse_unusable(invitation_id)
        async with self._db.write() as tx:
            vault = await self._managed(tx, user_id, vault_ref)
            row = await q.invitation(tx, invitation_id)
            if row is None or row.vault_id != vault.id or row.status != "pending":
                raise errors.NotFound("No pending invitation with that id in this vault.")
            now = self._now()
            await q.update_invitation(
                tx, row.id, {"status": "revoked", "revoked_at": now, "updated_at": now}
            )

    async def my_invitations(self, user_id: str) -> list[Invitation]:
        """Pending, unexpired invitations to the caller's email."""
        async with self._db.read() as tx:
            me = await q.user_by_id(tx, user_id)
            if me is None:
                return []
            return [
                invitation_from_row(r) for r in await q.invitations_for(tx, me.email, self._now())
            ]

    async def _my_invitation(self, tx: Tx, user_id: str, invitation_id: str) -> Invitation:
        """An invitation to the caller's email that still waits for an answer; 404 for
        anyone else's (existence is not revealed), 400 once expired."""
        _refuse_unusable(invitation_id)
        me = await q.user_by_id(tx, user_id)
        row = await q.invitation(tx, invitation_id)
        if me is None or row is None or row.email != me.email:
            raise errors.NotFound("Invitation not found.")
        found = invitation_from_row(row)
        if found.status != "pending":
            raise errors.InvalidRequest(f"This invitation is no longer pending ({found.status}).")
        if found.expired(self._now()):
            raise errors.InvalidRequest(
                "This invitation has expired; ask the vault's owner or an admin for a new one."
            )
        return found

    async def accept(self, user_id: str, invitation_id: str) -> Vault:
        """Join the vault with the invitation's role."""
        async with self._db.write() as tx:
            found = await self._my_invitation(tx, user_id, invitation_id)
            now = self._now()
            await vq.insert_membership(tx, found.vault_id, user_id, found.role, now)
            await q.update_invitation(
                tx, found.id, {"status": "accepted", "accepted_at": now, "updated_at": now}
            )
            return await find_member_vault(tx, user_id, found.vault_id)

    async def decline(self, user_id: str, invitation_id: str) -> Invitation:
        async with self._db.write() as tx:
            found = await self._my_invitation(tx, user_id, invitation_id)
            now = self._now()
            await q.update_invitation(
                tx, found.id, {"status": "declined", "declined_at": now, "updated_at": now}
            )
            return invitation_from_row(await q.invitation(tx, found.id))

    # -- the account ---------------------------------------------------------------------

    async def delete_account(self, user_id: str) -> AccountDeleted:
        """Delete the user, their personal vault and its skills, and leave every team vault.

        A team vault the user owns is deleted with its skills when they are its only
        member; with other members the deletion is refused (409) until ownership has been
        transferred, so that nobody's shared skills vanish with one account.
        """
        async with self._db.write() as tx:
            me = await q.user_by_id(tx, user_id)
            if me is None:
                raise errors.NotFound("Account not found.")
            owned = await q.owned_team_vaults(tx, user_id)
            shared = [v.slug for v in owned if v.member_count > 1]
            if shared:
                raise errors.Conflict(
                    "Transfer ownership of your team vaults with other members first: "
                    + ", ".join(shared)
                    + ".",
                    details=[{"path": s, "message": "has other members"} for s in shared],
                )
            left = [
                v.slug
                for v in await vq.memberships(tx, user_id)
                if v.type == "team" and v.role != "owner"
            ]
            for vault in owned:
                await q.delete_vault(tx, vault.id)
            await q.delete_invitations_to(tx, me.email)
            await q.delete_user(tx, user_id)
            return AccountDeleted(deleted_vaults=[v.slug for v in owned], left_vaults=left)
