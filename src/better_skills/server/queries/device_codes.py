"""Statements over device codes (RFC 8628): the poll, issue, redeem and transition statements
of the hot paths (compiled once, run through the driver), the engine's look-up, claim and
decision, and the dialect variants of issuing a code with its audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    delete,
    insert,
    literal,
    select,
    update,
)

from better_skills.protocol.device_flow import SLOW_DOWN_INCREMENT
from better_skills.server.direct import (
    PostgresDirect,
    Row,
    SqliteDirect,
    Tx,
    insert_statement,
)
from better_skills.server.models import audit_log, device_codes
from better_skills.server.queries.audit import INSERT as INSERT_AUDIT

#: The states a code goes through (see services.device_flow).
PENDING, APPROVED, REDEEMED = "pending", "approved", "redeemed"
DENIED, DENIED_SEEN, EXPIRED_SEEN = "denied", "denied_seen", "expired_seen"
FINISHED = (REDEEMED, DENIED_SEEN, EXPIRED_SEEN)


def _poll_statement() -> Any:
    """One statement records the poll and decides slow_down: SET expressions all see the row
    as it was, so concurrent polls cannot both slip under the interval.

    Built once with bound parameters: building this statement and its cache key on every
    request cost more CPU than running it."""
    dc = device_codes.c
    now = bindparam("now", type_=BigInteger)
    cap = bindparam("cap", type_=Integer)
    too_fast = and_(
        dc.last_polled_at.is_not(None),
        # 64-bit: a 32-bit ``interval * 1000`` overflowed on PostgreSQL (a 500).
        dc.last_polled_at > now - cast(dc.poll_interval, BigInteger) * 1000,
        # Spelled out, not NOT IN: an expanding parameter cannot be compiled once.
        *(dc.status != status for status in FINISHED),
    )
    return (
        update(device_codes)
        .where(
            and_(
                dc.device_code_hash == bindparam("code_hash"),
                dc.client_id == bindparam("poll_client_id"),
            )
        )
        .values(
            polled_too_fast=case((too_fast, True), else_=False),
            poll_interval=case(
                (
                    and_(too_fast, dc.poll_interval <= bindparam("cap_less_step", type_=Integer)),
                    dc.poll_interval + SLOW_DOWN_INCREMENT,
                ),
                (and_(too_fast, dc.poll_interval < cap), cap),
                else_=dc.poll_interval,
            ),
            last_polled_at=now,
        )
        .returning(
            dc.id,
            dc.status,
            dc.expires_at,
            dc.polled_too_fast,
            dc.poll_interval,
            dc.user_id,
            dc.scope,
            dc.hostname,
        )
    )


POLL = _poll_statement()
INSERT_CODE = insert_statement(
    device_codes,
    "id",
    "device_code_hash",
    "user_code_hash",
    "client_id",
    "scope",
    "status",
    "created_at",
    "expires_at",
    "poll_interval",
    "polled_too_fast",
    "ip_address",
    "user_agent",
    "hostname",
)


def _issue_with_audit() -> Any:
    """PostgreSQL: the code and its audit row in one statement, one round trip instead of
    four (BEGIN, two INSERTs, COMMIT); data-modifying CTEs commit or fail together."""
    code = INSERT_CODE.returning(
        device_codes.c.created_at, device_codes.c.client_id, device_codes.c.ip_address
    ).cte("code")
    log = (
        insert(audit_log)
        .from_select(
            ["at", "event", "client_id", "ip_address"],
            select(code.c.created_at, literal("issue"), code.c.client_id, code.c.ip_address),
        )
        .cte("log")
    )
    return select(code.c.created_at).add_cte(log)


ISSUE_WITH_AUDIT = _issue_with_audit()
#: Moves a code from one state to another; only one of concurrent callers succeeds.
TRANSITION = (
    update(device_codes)
    .where(
        and_(
            device_codes.c.id == bindparam("code_id"),
            device_codes.c.status == bindparam("old"),
        )
    )
    .values(status=bindparam("new"))
)
REDEEM = (
    update(device_codes)
    .where(and_(device_codes.c.id == bindparam("code_id"), device_codes.c.status == APPROVED))
    .values(status=REDEEMED, decided_at=bindparam("now", type_=BigInteger))
)


async def issue(direct: SqliteDirect | PostgresDirect, row: dict[str, Any]) -> None:
    """Insert a new code (``row``: the columns of :data:`INSERT_CODE`) and its ``issue``
    audit row, atomically, through the driver: on PostgreSQL as one statement (one round
    trip), on SQLite as a transaction (no round trips to save). :class:`Conflict` when a
    user code collides with a live one."""
    if direct.dialect_name == "postgresql":
        await direct.statement(ISSUE_WITH_AUDIT, row)
        return
    async with direct.transaction() as tx:
        await tx.execute(INSERT_CODE, row)
        await tx.execute(
            INSERT_AUDIT,
            {
                "at": row["created_at"],
                "event": "issue",
                "user_id": None,
                "client_id": row["client_id"],
                "ip_address": row["ip_address"],
                "detail": None,
            },
        )


async def by_user_code(tx: Tx, user_code_hash: str) -> Row | None:
    return await tx.first(
        select(device_codes).where(device_codes.c.user_code_hash == user_code_hash)
    )


async def claim(tx: Tx, code_id: str, user_id: str, now: int) -> bool:
    """Give an unclaimed code to ``user_id``; False if someone claimed it first."""
    claimed = await tx.execute(
        update(device_codes)
        .where(and_(device_codes.c.id == code_id, device_codes.c.user_id.is_(None)))
        .values(user_id=user_id, claimed_at=now)
    )
    return claimed == 1


async def owner(tx: Tx, code_id: str) -> str | None:
    found = await tx.scalar(select(device_codes.c.user_id).where(device_codes.c.id == code_id))
    return None if found is None else str(found)


async def decide(tx: Tx, code_id: str, user_id: str, status: str, now: int) -> bool:
    """Move a live pending code claimed by ``user_id`` to ``status``; False if it was not."""
    done = await tx.execute(
        update(device_codes)
        .where(
            and_(
                device_codes.c.id == code_id,
                device_codes.c.status == PENDING,
                device_codes.c.user_id == user_id,
                device_codes.c.expires_at > now,
            )
        )
        .values(status=status, decided_at=now)
    )
    return done == 1


async def delete_expired(tx: Tx, before: int) -> int:
    return await tx.execute(delete(device_codes).where(device_codes.c.expires_at < before))
