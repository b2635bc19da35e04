"""Fixed-window counters kept in the database, so every replica counts the same attempts."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from better_skills.protocol.errors import TooManyRequests
from better_skills.server.db import Database
from better_skills.server.models import rate_limits
from better_skills.server.security import Hasher
from better_skills.server.settings import RateLimit


def address_bucket(ip: str | None) -> str:
    """What a per-address limit counts: an IPv4 address, or an IPv6 /64.

    One subscriber gets a whole /64 (2**64 addresses); counting single IPv6 addresses let a
    client reset every per-address limit by moving to the next address in its own network.
    """
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _upsert(dialect: Any) -> Any:
    """Count one event in one atomic upsert: built once per dialect, values bound later
    (building it per request cost more CPU than running it)."""
    now = bindparam("now", type_=BigInteger)
    expired = rate_limits.c.window_start <= bindparam("cutoff", type_=BigInteger)
    stmt = dialect.insert(rate_limits).values(key=bindparam("key"), window_start=now, count=1)
    return stmt.on_conflict_do_update(
        index_elements=[rate_limits.c.key],
        set_={
            "count": case((expired, 1), else_=rate_limits.c.count + 1),
            "window_start": case((expired, now), else_=rate_limits.c.window_start),
        },
    ).returning(rate_limits.c.count, rate_limits.c.window_start)


_UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def _upsert_params(hashed_key: str, rule: RateLimit, now_ms: int) -> dict[str, Any]:
    """The values of one ``_UPSERT``: a window that started at or before ``cutoff`` is over."""
    return {"key": hashed_key, "now": now_ms, "cutoff": now_ms - int(rule.window * 1000)}


@dataclass(frozen=True)
class Reservation:
    """Attempts counted by :meth:`RateLimiter.reserve`: (hashed key, window start) pairs."""

    slots: tuple[tuple[str, int], ...] = ()


class RateLimiter:
    def __init__(self, hasher: Hasher) -> None:
        self._hasher = hasher

    async def count(self, db: Database, key: str, rule: RateLimit, now_ms: int) -> int | None:
        """Count one event for ``key`` in a statement of its own; returns the seconds to wait
        if that took it over its limit, else None.

        Not durable and outside the caller's transaction: a count lost in a database crash
        harms nobody, while a counter row every request from one address updates must not
        stay locked until a disk sync or another statement of the caller's has finished.
        """
        if rule.limit <= 0:
            return None
        params = _upsert_params(self._hasher.rate_key(key), rule, now_ms)
        row, _ = await db.direct.statement(_UPSERT[db.dialect], params, durable=False)
        assert row is not None  # an upsert with RETURNING always returns its row
        if row.count <= rule.limit:
            return None
        return _wait(row.window_start, rule, now_ms)

    async def _count(
        self, conn: AsyncConnection, hashed: str, rule: RateLimit, now_ms: int
    ) -> tuple[int, int]:
        """One atomic upsert: the count in the window after this event, and the window start."""
        stmt = _UPSERT[conn.dialect.name]
        row = (await conn.execute(stmt, _upsert_params(hashed, rule, now_ms))).one()
        return int(row.count), int(row.window_start)

    async def reserve(
        self, conn: AsyncConnection, keys: list[str], rule: RateLimit, now_ms: int, message: str
    ) -> Reservation:
        """Count an attempt against every key *before* it is made; 429 if one is over its limit.

        Counting first makes the check atomic: of concurrent attempts each sees its own count,
        so a burst cannot slip through while the others are still in flight (checking first
        and counting failures afterwards let dozens of parallel guesses past a limit of 10).
        Call it in a write transaction: the 429 rolls the counts back, so refused attempts do
        not count; give successful attempts back with :meth:`refund`.
        """
        if rule.limit <= 0:
            return Reservation()
        slots = []
        worst = None
        for key in keys:
            hashed = self._hasher.rate_key(key)
            count, window_start = await self._count(conn, hashed, rule, now_ms)
            slots.append((hashed, window_start))
            if count > rule.limit:
                worst = max(worst or 0, _wait(window_start, rule, now_ms))
        if worst is not None:
            raise TooManyRequests(f"{message} Try again in {_human(worst)}.", retry_after=worst)
        return Reservation(tuple(slots))

    async def refund(self, conn: AsyncConnection, reservation: Reservation) -> None:
        """Give back the attempts of a reservation that succeeded (limits count failures)."""
        for hashed, window_start in reservation.slots:
            await conn.execute(
                update(rate_limits)
                .where(
                    and_(
                        rate_limits.c.key == hashed,
                        rate_limits.c.window_start == window_start,
                        rate_limits.c.count > 0,
                    )
                )
                .values(count=rate_limits.c.count - 1)
            )


def _wait(window_start: int, rule: RateLimit, now_ms: int) -> int:
    """Whole seconds (at least 1) until the window that started at ``window_start`` ends."""
    window_end = window_start + int(rule.window * 1000)
    return max(1, -(-(window_end - now_ms) // 1000))


def _human(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{-(-seconds // 60)} minutes"
