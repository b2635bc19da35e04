"""Team vaults: creation, members and roles, invitations by email, leaving, transferring
ownership, and deleting an account (which leaves its team vaults).

Rules (original-system.md §1.10 and §2.2, with "enterprise" called "team"):

* whoever is not a member of a vault gets 404 for anything about it;
* the owner and admins manage a team vault (members, roles, invitations, name, colour);
  only the owner transfers ownership; the owner cannot be removed, demoted, or leave;
* personal and system vaults have no members to manage, and cannot be left: 400.
"""

from __future__ import annotations

from typing import Any

from better_skills.protocol import errors
from better_skills.server.db import Database
from better_skills.server.direct import Conflict, Tx
from better_skills.server.queries import teams as q
from better_skills.server.queries import vaults as vq
from better_skills.server.services import Clock, to_ms
from better_skills.server.services.rate_limit import WriteLimits
from better_skills.server.services.team_records import (
    GRANTABLE,
    INVITATION_MS,
    AccountDeleted,
    Invitation,
    Member,
    invalid,
    invitation_from_row,
    invitee_email,
    refuse_unusable,
    slug_taken_error,
    team_slug,
    vault_color,
    vault_name,
)
from better_skills.server.services.vaults import Vault, find_member_vault


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
            raise slug_taken_error(chosen) from None

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
            raise slug_taken_error(chosen) from None

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
            raise slug_taken_error(slug)
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
        refuse_unusable(ref)
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
        refuse_unusable(ref)
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
            raise invalid("role", "A role is admin or member (ownership moves by transfer).")
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
            raise invalid("role", "A role is admin or member.")
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
        refuse_unusable(invitation_id)
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
        refuse_unusable(invitation_id)
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
