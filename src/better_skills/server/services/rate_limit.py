"""Fixed-window counters kept in the database, so every replica counts the same attempts."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from better_skills.protocol.errors import TooManyRequests
from better_skills.server.models import rate_limits
from better_skills.server.security import Hasher
from better_skills.server.settings import RateLimit


class RateLimiter:
    def __init__(self, hasher: Hasher) -> None:
        self._hasher = hasher

    async def retry_after(
        self, conn: AsyncConnection, key: str, rule: RateLimit, now_ms: int
    ) -> int | None:
        """Seconds until ``key`` may try again, or None if it is under its limit."""
        if rule.limit <= 0:
            return None
        row = (
            await conn.execute(
                select(rate_limits.c.count, rate_limits.c.window_start).where(
                    rate_limits.c.key == self._hasher.rate_key(key)
                )
            )
        ).first()
        if row is None:
            return None
        window_end = row.window_start + int(rule.window * 1000)
        if row.count >= rule.limit and window_end > now_ms:
            return max(1, -(-(window_end - now_ms) // 1000))
        return None

    async def hit(self, conn: AsyncConnection, key: str, rule: RateLimit, now_ms: int) -> int:
        """Count one event for ``key`` in one atomic upsert; returns the count in the window."""
        if rule.limit <= 0:
            return 0
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        expired = rate_limits.c.window_start <= now_ms - int(rule.window * 1000)
        stmt = dialect.insert(rate_limits).values(
            key=self._hasher.rate_key(key), window_start=now_ms, count=1
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={
                "count": case((expired, 1), else_=rate_limits.c.count + 1),
                "window_start": case((expired, now_ms), else_=rate_limits.c.window_start),
            },
        ).returning(rate_limits.c.count)
        return int((await conn.execute(stmt)).scalar_one())

    async def enforce(
        self, conn: AsyncConnection, keys: list[str], rule: RateLimit, now_ms: int, message: str
    ) -> None:
        """Raise 429 with ``Retry-After`` if any of ``keys`` is over its limit."""
        waits = [await self.retry_after(conn, key, rule, now_ms) for key in keys]
        worst = max((w for w in waits if w is not None), default=None)
        if worst is not None:
            raise TooManyRequests(f"{message} Try again in {_human(worst)}.", retry_after=worst)


def _human(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{-(-seconds // 60)} minutes"
