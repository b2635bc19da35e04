"""Database tables (SQLAlchemy Core). Times are integer milliseconds since the Unix epoch:
portable between SQLite and PostgreSQL, cheap to compare, and free of time-zone surprises."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from better_skills.protocol.device_flow import MAX_HOSTNAME

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
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),  # normalised: see accounts
    Column("email_verified", Boolean, nullable=False, default=False),
    Column("image", Text, nullable=True),
    Column("password_hash", Text, nullable=True),
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
    Column("user_agent", String(512), nullable=True),
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
    # pending -> approved -> redeemed; pending -> denied -> closed; any -> closed on expiry
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
    Column("user_agent", String(512), nullable=True),
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
    Column("name", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
    Index("ix_access_tokens_user_id", "user_id"),
    Index("ix_access_tokens_expires_at", "expires_at"),
)
# "Has this address signed in to this account before?" looks at an account's recent sign-ins.
Index("ix_audit_log_user_id_at", audit_log.c.user_id, audit_log.c.at)
