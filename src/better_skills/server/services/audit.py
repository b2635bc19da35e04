"""The audit trail: every issue, claim, approve, deny, redeem, sign-in, sign-out and revoke."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from better_skills.server.direct import Tx, insert_statement
from better_skills.server.models import audit_log

_INSERT = insert_statement(audit_log, "at", "event", "user_id", "client_id", "ip_address", "detail")


async def record(
    conn: AsyncConnection | Tx,
    at_ms: int,
    event: str,
    *,
    user_id: str | None = None,
    client_id: str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one audit row inside the caller's transaction (never a secret in ``detail``)."""
    await conn.execute(
        _INSERT,
        {
            "at": at_ms,
            "event": event,
            "user_id": user_id,
            "client_id": client_id,
            "ip_address": ip,
            "detail": detail,
        },
    )
