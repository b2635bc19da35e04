"""Statements of the rate limits: one atomic upsert per counted attempt (in each dialect's
spelling), and the refund of an attempt that succeeded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, bindparam, case, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from better_skills.server.direct import Row, Tx
from better_skills.server.models import rate_limits


def _upsert(dialect: Any) -> Any:
    """Count one attempt in one atomic upsert: built once per dialect, values bound later
    (building it per request cost more CPU than running it).

    ``window_start`` holds the TAT; ``count`` becomes 1 if this attempt was let through and
    0 if not (a refused attempt leaves the TAT alone: it costs the caller nothing more)."""
    now = bindparam("now", type_=BigInteger)
    step = bindparam("step", type_=BigInteger)  # W / L in ms: one attempt's worth
    tat = rate_limits.c.window_start
    base = case((tat > now, tat), else_=now)
    allowed = base - now <= bindparam("tolerance", type_=BigInteger)
    stmt = dialect.insert(rate_limits).values(
        key=bindparam("key"), window_start=now + step, count=1
    )
    return stmt.on_conflict_do_update(
        index_elements=[rate_limits.c.key],
        set_={
            "window_start": case((allowed, base + step), else_=tat),
            "count": case((allowed, 1), else_=0),
        },
    ).returning(rate_limits.c.count, rate_limits.c.window_start)


UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}
REFUND = (
    update(rate_limits)
    .where(rate_limits.c.key == bindparam("hashed"))
    .values(window_start=rate_limits.c.window_start - bindparam("step", type_=BigInteger))
)


async def count(tx: Tx, hashed_key: str, now: int, step: int, tolerance: int) -> Row:
    """Count one attempt: the row's ``count`` (1 let through, 0 refused) and its TAT."""
    params = {"key": hashed_key, "now": now, "step": step, "tolerance": tolerance}
    row = await tx.first(UPSERT[tx.dialect], params)
    assert row is not None  # an upsert with RETURNING always returns its row
    return row


async def refund(tx: Tx, hashed_key: str, step: int) -> None:
    await tx.execute(REFUND, {"hashed": hashed_key, "step": step})


async def delete_full(tx: Tx, now: int) -> int:
    """Buckets whose arrival time is past are full again: their rows say nothing."""
    return await tx.execute(delete(rate_limits).where(rate_limits.c.window_start < now))
