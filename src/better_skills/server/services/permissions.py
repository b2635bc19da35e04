"""Who may do what in a vault: a pure function of the vault's type and the member's role
(original-system.md §1.10, with "enterprise" called "team")."""

from __future__ import annotations

from dataclasses import dataclass

VAULT_TYPES = ("personal", "team", "system")
ROLES = ("owner", "admin", "member")


@dataclass(frozen=True)
class Access:
    can_read: bool
    can_write: bool  # create, update, delete, and be the target of a move
    can_admin: bool
    #: Why writing is refused (one sentence), or None when it is allowed.
    read_only_reason: str | None = None


def access(vault_type: str, role: str | None) -> Access:
    """The rights of a member with ``role`` (None: not a member) in a vault of ``vault_type``."""
    if role is None:
        return Access(False, False, False, "You are not a member of this vault.")
    if vault_type == "system":
        return Access(True, False, False, "The system vault is read-only.")
    if vault_type == "personal":
        return Access(True, True, True)
    if role == "owner":
        return Access(True, True, True)
    if role == "admin":
        return Access(True, True, False)
    return Access(True, False, False, "Team vault members have read-only access.")
