"""Statements over sessions (browser and device logins): the hot lookup and touch, run
through the driver, and the engine's sign-out, revoke and listing."""

from __future__ import annotations

from sqlalchemy import BigInteger, and_, bindparam, delete, select, update

from better_skills.server.direct import Row, Tx, insert_statement
from better_skills.server.models import sessions, users

#: The account's columns, next to a session's or token's in a lookup (see :func:`user_of`).
USER_COLUMNS = (
    users.c.name,
    users.c.email,
    users.c.email_verified,
    users.c.image,
    users.c.created_at.label("user_created_at"),
    users.c.updated_at.label("user_updated_at"),
)


#: Built once: SQLAlchemy then skips re-building the statement and its cache key per request.
LOOKUP = (
    select(
        sessions.c.id,
        sessions.c.user_id,
        sessions.c.expires_at,
        sessions.c.created_at,
        sessions.c.updated_at,
        sessions.c.last_used_at,
        sessions.c.ip_address,
        sessions.c.user_agent,
        sessions.c.kind,
        sessions.c.scope,
        *USER_COLUMNS,
    )
    .join(users, users.c.id == sessions.c.user_id)
    .where(sessions.c.token_hash == bindparam("token_hash"))
)

INSERT = insert_statement(
    sessions,
    "id",
    "token_hash",
    "user_id",
    "kind",
    "client_id",
    "scope",
    "created_at",
    "updated_at",
    "last_used_at",
    "expires_at",
    "ip_address",
    "user_agent",
    "hostname",
)
# Conditional, so that replicas racing to record the same minute write once.
TOUCH = (
    update(sessions)
    .where(
        and_(
            sessions.c.id == bindparam("session_id"),
            sessions.c.last_used_at <= bindparam("stale_before", type_=BigInteger),
        )
    )
    .values(last_used_at=bindparam("now", type_=BigInteger))
)


async def end_by_token(tx: Tx, token_hash: str, now: int) -> Row | None:
    """Delete the live session of a token digest: its user_id, client_id and kind."""
    return await tx.first(
        delete(sessions)
        .where(
            and_(
                sessions.c.token_hash == token_hash,
                # An expired session is no longer one to end (the sweeper's).
                sessions.c.expires_at > now,
            )
        )
        .returning(sessions.c.user_id, sessions.c.client_id, sessions.c.kind)
    )


async def delete_all_of(tx: Tx, user_id: str) -> int:
    """Delete every session of a user: how many there were."""
    return await tx.execute(delete(sessions).where(sessions.c.user_id == user_id))


async def delete_one(tx: Tx, user_id: str, session_id: str) -> Row | None:
    """Delete one of a user's sessions by id: its client_id, or None if there was none."""
    return await tx.first(
        delete(sessions)
        .where(and_(sessions.c.id == session_id, sessions.c.user_id == user_id))
        .returning(sessions.c.client_id)
    )


async def live_of(tx: Tx, user_id: str, now: int) -> list[Row]:
    """A user's live sessions (every column), newest first."""
    return await tx.all(
        select(sessions)
        .where(and_(sessions.c.user_id == user_id, sessions.c.expires_at > now))
        .order_by(sessions.c.created_at.desc())
    )


async def delete_expired(tx: Tx, now: int) -> int:
    return await tx.execute(delete(sessions).where(sessions.c.expires_at < now))
