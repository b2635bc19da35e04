"""What the team service hands out (members, invitations) and the rules of its input: team
slugs, vault names and colours, invitee addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from better_skills.protocol import errors
from better_skills.server import fields
from better_skills.server.queries import vaults as vq
from better_skills.server.services.accounts import AccountError, normalize_email

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


def invalid(field: str, message: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(message, details=[{"path": field, "message": message}])


def team_slug(raw: str | None, name: str) -> str:
    """The slug of a new team vault: the one given, else the name made URL-safe; 1-64 of
    ``a-z 0-9 -``, starting with a letter or digit, not ``personal`` or ``system-default``."""
    if raw is None or not raw.strip():
        slug = _SLUG_RUNS.sub("-", name.lower()).strip("-")[:64].rstrip("-")
        if not slug:
            raise invalid("slug", "The name has no letters or digits to make a slug of; give one.")
    else:
        slug = raw.strip().lower()
    if not _SLUG.fullmatch(slug):
        raise invalid(
            "slug",
            "A vault slug is 1 to 64 characters: lowercase letters, digits and '-', starting "
            "with a letter or digit.",
        )
    if slug in RESERVED_SLUGS:
        raise invalid("slug", f'The slug "{slug}" is reserved.')
    return slug


def vault_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > fields.VAULT_NAME or not name.isprintable():
        raise invalid("name", f"A vault name is 1 to {fields.VAULT_NAME} printable characters.")
    return name


def vault_color(raw: str | None) -> str | None:
    """``#RRGGBB`` (stored lower-case), or None for no colour."""
    if raw is None or raw.strip() == "":
        return None
    if not _COLOR.fullmatch(raw.strip()):
        raise invalid("color", "A colour is #RRGGBB, such as #0f766e.")
    return raw.strip().lower()


def invitee_email(raw: str) -> str:
    try:
        return normalize_email(raw)
    except AccountError:
        raise invalid("email", "Enter a valid email address.") from None


def slug_taken_error(slug: str) -> errors.Conflict:
    return errors.Conflict(
        f'A vault called "{slug}" already exists; choose another slug.',
        details=[{"path": slug, "message": "This slug is taken."}],
    )


def refuse_unusable(ref: str) -> None:
    if len(ref) > 100 or not ref.isprintable():
        raise errors.NotFound("Not found.")
