"""Database tables (SQLAlchemy Core). Times are integer milliseconds since the Unix epoch:
portable between SQLite and PostgreSQL, cheap to compare, and free of time-zone surprises."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from better_skills.protocol.device_flow import MAX_HOSTNAME
from better_skills.server import fields

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(fields.USER_NAME), nullable=False),
    # Normalised (services/accounts.normalize_email).
    Column("email", String(fields.EMAIL_COLUMN), nullable=False, unique=True),
    Column("email_verified", Boolean, nullable=False, default=False),
    Column("image", Text, nullable=True),
    Column("password_hash", Text, nullable=True),
    # A server administrator (``better-skills-server admin grant``): may create team vaults
    # when TEAM_VAULTS=admins.
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # HMAC; never the token
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # "browser" or "device"
    Column("client_id", String(100), nullable=True),
    Column("scope", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("ip_address", String(64), nullable=True),
    Column("user_agent", String(fields.USER_AGENT), nullable=True),
    # The computer's name a device login gave (HOSTNAME_FIELD), kept for the account page.
    Column("hostname", String(MAX_HOSTNAME), nullable=True),
    Index("ix_sessions_user_id", "user_id"),
    Index("ix_sessions_expires_at", "expires_at"),
)

device_codes = Table(
    "device_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("device_code_hash", String(64), nullable=False, unique=True),
    # Unique among rows that exist; rows are swept soon after they expire, so it is in
    # effect unique among live codes.
    Column("user_code_hash", String(64), nullable=False, unique=True),
    Column("client_id", String(100), nullable=False),
    Column("scope", Text, nullable=True),
    # pending -> approved -> redeemed; pending -> denied -> denied_seen; any live state ->
    # expired_seen at the first poll after expiry (services/device_flow.py draws the machine)
    Column("status", String(16), nullable=False),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("claimed_at", BigInteger, nullable=True),
    Column("decided_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("poll_interval", Integer, nullable=False),
    Column("last_polled_at", BigInteger, nullable=True),
    Column("polled_too_fast", Boolean, nullable=False, default=False),
    Column("ip_address", String(64), nullable=True),
    Column("user_agent", String(fields.USER_AGENT), nullable=True),
    Column("hostname", String(MAX_HOSTNAME), nullable=True),  # as the device request gave it
    Index("ix_device_codes_expires_at", "expires_at"),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(64), primary_key=True),  # HMAC of e.g. "user_code:ip:203.0.113.9"
    # A token bucket (GCRA, see services/rate_limit): the bucket's "theoretical arrival
    # time" in ms, and whether the key's last attempt was let through (1) or not (0).
    Column("window_start", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Index("ix_rate_limits_window_start", "window_start"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "id", Integer().with_variant(BigInteger, "postgresql"), primary_key=True, autoincrement=True
    ),
    Column("at", BigInteger, nullable=False),
    Column("event", String(32), nullable=False),
    Column("user_id", String(32), nullable=True),
    Column("client_id", String(100), nullable=True),
    Column("ip_address", String(64), nullable=True),
    Column("detail", Text, nullable=True),
    Index("ix_audit_log_at", "at"),
)

# -- Personal access tokens (issue 15), and an index for the sign-in lock-out rule ---------
# Kept in one block: migration 0003 creates all of it.

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", String(36), primary_key=True),  # a UUID, as /api/v1 shows ids
    Column("token_hash", String(64), nullable=False, unique=True),  # HMAC; never the token
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(fields.ACCESS_TOKEN_NAME), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
    Index("ix_access_tokens_user_id", "user_id"),
    Index("ix_access_tokens_expires_at", "expires_at"),
)
# "Has this address signed in to this account before?" looks at an account's recent sign-ins.
Index("ix_audit_log_user_id_at", audit_log.c.user_id, audit_log.c.at)


# --- The vault (issue 11). Ids of vaults, skills and files are UUID strings (mentions name
# skills and files by UUID); user ids are the auth tables' opaque ids.

vaults = Table(
    "vaults",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(16), nullable=False),  # "personal", "team" or "system"
    Column("slug", String(64), nullable=False),
    Column("name", String(fields.VAULT_NAME), nullable=False),
    Column("color", String(32), nullable=True),
    # The user a personal vault belongs to; NULL for team and system vaults.
    Column("owner_user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Bumped in the same transaction by every write to the vault's skills (both vaults of a
    # move): the sync manifest's ETag is derived from it, so a 304 reads no skill rows.
    Column("revision", BigInteger, nullable=False, server_default=text("0")),
    # Team and system slugs are unique among themselves; every personal vault is "personal".
    Index(
        "uq_vaults_shared_slug",
        "slug",
        unique=True,
        sqlite_where=text("type <> 'personal'"),
        postgresql_where=text("type <> 'personal'"),
    ),
    # One personal vault per user.
    Index(
        "uq_vaults_personal_owner",
        "owner_user_id",
        unique=True,
        sqlite_where=text("type = 'personal'"),
        postgresql_where=text("type = 'personal'"),
    ),
)

vault_memberships = Table(
    "vault_memberships",
    metadata,
    Column("vault_id", String(36), ForeignKey("vaults.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),  # "owner", "admin" or "member"
    Column("enabled", Boolean, nullable=False),  # the member's own switch: left out of sync
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_vault_memberships_user_id", "user_id"),
)

skills = Table(
    "skills",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("vault_id", String(36), ForeignKey("vaults.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("frontmatter", JSON, nullable=False),  # parsed from SKILL.md, for queries only
    Column("content_hash", String(64), nullable=False),  # skillfmt.hashing.content_hash
    # Bumped by every write; the conditional UPDATE on it makes one of two racing writes lose.
    Column("version", Integer, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("size", BigInteger, nullable=False),  # bytes of all files
    Column("created_by", String(32), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("vault_id", "slug", name="uq_skills_vault_id_slug"),
    # Keyset pagination: newest first, id as the tie-breaker (per vault and over all vaults).
    Index("ix_skills_vault_id_created_at", "vault_id", "created_at", "id"),
    Index("ix_skills_created_at", "created_at", "id"),
)

skill_files = Table(
    "skill_files",
    metadata,
    Column("id", String(36), primary_key=True),  # stable across updates of the same path
    Column("skill_id", String(36), ForeignKey("skills.id", ondelete="CASCADE"), nullable=False),
    Column("path", String(255), nullable=False),  # NFC, checked by skillfmt.paths.check_path
    Column("kind", String(16), nullable=False),  # skill, reference, script, asset, other
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),  # the bytes as uploaded, SKILL.md too
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("skill_id", "path", name="uq_skill_files_skill_id_path"),
)

skill_links = Table(
    "skill_links",
    metadata,
    Column(
        "id", Integer().with_variant(BigInteger, "postgresql"), primary_key=True, autoincrement=True
    ),
    # The mentioning file and its skill.
    Column(
        "source_skill_id", String(36), ForeignKey("skills.id", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "source_file_id",
        String(36),
        ForeignKey("skill_files.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # The mentioned skill, or the skill of the mentioned file; target_file_id is NULL for a
    # [[skill:...]] mention.
    Column(
        "target_skill_id", String(36), ForeignKey("skills.id", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "target_file_id",
        String(36),
        ForeignKey("skill_files.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("kind", String(16), nullable=False),  # "mention"
    Index("ix_skill_links_source_skill_id", "source_skill_id"),
    Index("ix_skill_links_target_skill_id", "target_skill_id"),
    Index("ix_skill_links_source_file_id", "source_file_id"),
    Index("ix_skill_links_target_file_id", "target_file_id"),
)


# --- Shares (issue 14): a frozen snapshot of a skill and the skills it mentions, under an
# unguessable id. Migration 0008 creates this block.

skill_shares = Table(
    "skill_shares",
    metadata,
    Column("id", String(36), primary_key=True),  # a random UUID: the public share id
    # The shared skill; NULL once it is deleted (the snapshot stays readable).
    Column("skill_id", String(36), ForeignKey("skills.id", ondelete="SET NULL"), nullable=True),
    Column("created_by", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    # The root skill's, for listings without reading the snapshot.
    Column("slug", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("skill_count", Integer, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("size", BigInteger, nullable=False),
    # {"version": 1, "root_skill_id", "skills": [{id, slug, name, description, frontmatter,
    # content_hash}]}: the skills in order, root first; their files are skill_share_files.
    Column("snapshot", JSON, nullable=False),
    Index("ix_skill_shares_created_by", "created_by"),
    Index("ix_skill_shares_skill_id", "skill_id"),
)

skill_share_files = Table(
    "skill_share_files",
    metadata,
    Column(
        "share_id",
        String(36),
        ForeignKey("skill_shares.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("file_id", String(36), primary_key=True),  # the file's id when it was shared
    Column("skill_id", String(36), nullable=False),  # the skill's id when it was shared
    Column("path", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("content", LargeBinary, nullable=False),  # the bytes as stored then
)


# --- Team vaults (issue 14): invitations by email. Migration 0007 creates this block.

vault_invitations = Table(
    "vault_invitations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("vault_id", String(36), ForeignKey("vaults.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),  # normalised like users.email
    Column("role", String(16), nullable=False),  # "admin" or "member"
    # pending -> accepted | declined | revoked; a pending row past expires_at is expired.
    Column("status", String(16), nullable=False),
    Column("invited_by", String(32), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("accepted_at", BigInteger, nullable=True),
    Column("declined_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_vault_invitations_email", "email"),
    Index("ix_vault_invitations_vault_id", "vault_id"),
    # One pending invitation per address and vault: inviting again refreshes it.
    Index(
        "uq_vault_invitations_pending",
        "vault_id",
        "email",
        unique=True,
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)
