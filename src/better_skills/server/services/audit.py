"""The audit trail: every issue, claim, approve, deny, redeem, sign-in, sign-out and revoke."""

from __future__ import annotations

from better_skills.server.direct import Tx
from better_skills.server.queries.audit import INSERT


async def record(
    tx: Tx,
    at_ms: int,
    event: str,
    *,
    user_id: str | None = None,
    client_id: str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one audit row inside the caller's transaction (never a secret in ``detail``)."""
    await tx.execute(
        INSERT,
        {
            "at": at_ms,
            "event": event,
            "user_id": user_id,
            "client_id": client_id,
            "ip_address": ip,
            "detail": detail,
        },
    )
