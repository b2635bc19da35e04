"""Statements over personal access tokens: the hot lookup and touch (through the driver),
and the engine's count, listing and revoke."""

from __future__ import annotations

from sqlalchemy import BigInteger, and_, bindparam, delete, func, select, update

from better_skills.server.direct import Row, Tx, insert_statement
from better_skills.server.models import access_tokens, users
from better_skills.server.queries.sessions import USER_COLUMNS

LOOKUP = (
    select(
        access_tokens.c.id,
        access_tokens.c.user_id,
        access_tokens.c.created_at,
        access_tokens.c.expires_at,
        access_tokens.c.last_used_at,
        *USER_COLUMNS,
    )
    .join(users, users.c.id == access_tokens.c.user_id)
    .where(access_tokens.c.token_hash == bindparam("token_hash"))
)
INSERT = insert_statement(
    access_tokens, "id", "token_hash", "user_id", "name", "created_at", "expires_at"
)
TOUCH = (
    update(access_tokens)
    .where(
        and_(
            access_tokens.c.id == bindparam("token_id"),
            func.coalesce(access_tokens.c.last_used_at, 0)
            <= bindparam("stale_before", type_=BigInteger),
        )
    )
    .values(last_used_at=bindparam("now", type_=BigInteger))
)


async def count_live(tx: Tx, user_id: str, now: int) -> int:
    return int(
        await tx.scalar(
            select(func.count())
            .select_from(access_tokens)
            .where(and_(access_tokens.c.user_id == user_id, access_tokens.c.expires_at > now))
        )
        or 0
    )


async def of_user(tx: Tx, user_id: str) -> list[Row]:
    """id, name, created_at, expires_at, last_used_at of a user's tokens, newest first."""
    return await tx.all(
        select(
            access_tokens.c.id,
            access_tokens.c.name,
            access_tokens.c.created_at,
            access_tokens.c.expires_at,
            access_tokens.c.last_used_at,
        )
        .where(access_tokens.c.user_id == user_id)
        .order_by(access_tokens.c.created_at.desc(), access_tokens.c.id)
    )


async def delete_one(tx: Tx, user_id: str, token_id: str) -> bool:
    deleted = await tx.execute(
        delete(access_tokens).where(
            and_(access_tokens.c.id == token_id, access_tokens.c.user_id == user_id)
        )
    )
    return deleted == 1


async def delete_expired(tx: Tx, before: int) -> int:
    return await tx.execute(delete(access_tokens).where(access_tokens.c.expires_at < before))
