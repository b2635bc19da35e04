"""Statements over the audit trail."""

from __future__ import annotations

from sqlalchemy import and_, select

from better_skills.server.direct import Tx, insert_statement
from better_skills.server.models import audit_log

#: One audit row (compiled once: it runs through the driver's transactions too).
INSERT = insert_statement(audit_log, "at", "event", "user_id", "client_id", "ip_address", "detail")


async def recent_addresses(tx: Tx, user_id: str, event: str, since: int, limit: int) -> list[str]:
    """The addresses of the user's latest ``event`` rows after ``since``, newest first."""
    rows = await tx.all(
        select(audit_log.c.ip_address)
        .where(
            and_(
                audit_log.c.user_id == user_id,
                audit_log.c.at > since,
                audit_log.c.event == event,
            )
        )
        .order_by(audit_log.c.at.desc())
        .limit(limit)
    )
    return [r.ip_address for r in rows if r.ip_address]
