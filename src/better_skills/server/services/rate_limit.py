"""Rate limits kept in the database, so every replica counts the same attempts.

Each key is a token bucket in GCRA form (the "generic cell rate algorithm"): a limit of
``L`` per ``W`` lets ``L`` attempts through at once, then one every ``W / L``. The row keeps
one time, the bucket's *theoretical arrival time* (TAT): an attempt is let through when the
TAT is at most ``(L - 1) · W / L`` ahead of now, and moves it ``W / L`` further. Unlike the
fixed windows this replaced, twice the limit cannot fit around a window boundary (a burst at
the end of one window and another at the start of the next): after a burst, attempts come
back one by one, and the whole limit only after a whole window without attempts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from better_skills.protocol.durations import duration_text
from better_skills.protocol.errors import TooManyRequests
from better_skills.server.db import Database
from better_skills.server.direct import Tx
from better_skills.server.queries import rate_limits as q
from better_skills.server.security import Hasher
from better_skills.server.services import Clock, to_ms
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


def _step_ms(rule: RateLimit) -> int:
    """The time one attempt takes to come back, in ms (at least 1)."""
    return max(1, int(rule.window * 1000) // rule.limit)


def _refused_for(row: Any, rule: RateLimit, now_ms: int) -> int | None:
    """None if the counted attempt was let through, else whole seconds (at least 1) until
    the next one would be."""
    if row.count:
        return None
    step = _step_ms(rule)
    wait_ms = int(row.window_start) - now_ms - (rule.limit - 1) * step
    return max(1, -(-wait_ms // 1000))


@dataclass(frozen=True)
class Reservation:
    """Attempts counted by :meth:`RateLimiter.reserve`: (hashed key, step in ms) pairs."""

    slots: tuple[tuple[str, int], ...] = ()


class RateLimiter:
    def __init__(self, hasher: Hasher) -> None:
        self._hasher = hasher

    async def count(self, db: Database, key: str, rule: RateLimit, now_ms: int) -> int | None:
        """Count one event for ``key`` in a statement of its own; returns the seconds to wait
        if it was over its limit, else None.

        Not durable and outside the caller's transaction: a count lost in a database crash
        harms nobody, while a counter row every request from one address updates must not
        stay locked until a disk sync or another statement of the caller's has finished.
        """
        return (await self._count(db.direct.autocommit(durable=False), key, rule, now_ms))[1]

    async def _count(
        self, tx: Tx, key: str, rule: RateLimit, now_ms: int
    ) -> tuple[str, int | None]:
        """Count one attempt for ``key`` in ``tx``: the hashed key, and the seconds to wait if
        it was over its limit (else None). The one way every limit counts."""
        if rule.limit <= 0:
            return "", None
        hashed = self._hasher.rate_key(key)
        step = _step_ms(rule)
        row = await q.count(tx, hashed, now_ms, step, (rule.limit - 1) * step)
        return hashed, _refused_for(row, rule, now_ms)

    async def reserve(
        self, tx: Tx, keys: list[str], rule: RateLimit, now_ms: int, message: str
    ) -> Reservation:
        """Count an attempt against every key *before* it is made; 429 if one is over its limit.

        Counting first makes the check atomic: of concurrent attempts each sees its own count,
        so a burst cannot slip through while the others are still in flight (checking first
        and counting failures afterwards let dozens of parallel guesses past a limit of 10).
        Call it in a write transaction: the 429 rolls the counts back, so refused attempts do
        not count; give successful attempts back with :meth:`refund`.
        """
        return await self.reserve_each(tx, [(key, rule) for key in keys], now_ms, message)

    async def reserve_each(
        self,
        tx: Tx,
        limits: list[tuple[str, RateLimit]],
        now_ms: int,
        message: str,
    ) -> Reservation:
        """:meth:`reserve` with a rule of its own for each key."""
        slots = []
        worst = None
        for key, rule in limits:
            if rule.limit <= 0:
                continue
            hashed, wait = await self._count(tx, key, rule, now_ms)
            slots.append((hashed, _step_ms(rule)))
            if wait is not None:
                worst = max(worst or 0, wait)
        if worst is not None:
            raise TooManyRequests(
                f"{message} Try again in {duration_text(worst, round_up=True)}.", retry_after=worst
            )
        return Reservation(tuple(slots))

    async def refund(self, tx: Tx, reservation: Reservation) -> None:
        """Give back the attempts of a reservation that succeeded (limits count failures)."""
        for hashed, step in reservation.slots:
            await q.refund(tx, hashed, step)


class WriteLimits:
    """Per-user limits on writes (``RATE_LIMIT_WRITES``), so one account (or a stolen token)
    cannot flood the database with skills, shares or invitations.

    One call before a write, in the service that makes it, so every surface (``/api/v1``,
    ``/trpc``, pages) is covered: ``await services.write_limits.charge(user_id)``. Every attempt
    counts, refused ones too (a flood of invalid writes costs the server as much CPU). A
    ``bucket`` other than the default keeps its own count; ``rule`` overrides the setting.
    """

    def __init__(self, db: Database, limiter: RateLimiter, clock: Clock, rule: RateLimit) -> None:
        self._db = db
        self._limiter = limiter
        self._clock = clock
        self.rule = rule

    async def charge(
        self, user_id: str, bucket: str = "writes", rule: RateLimit | None = None
    ) -> None:
        """Count one write of ``user_id``; :class:`TooManyRequests` (429, ``Retry-After``)
        when the account is over its limit."""
        wait = await self._limiter.count(
            self._db, f"{bucket}:user:{user_id}", rule or self.rule, to_ms(self._clock())
        )
        if wait is not None:
            later = duration_text(wait, round_up=True)
            raise TooManyRequests(
                f"Too many changes from this account. Try again in {later}.",
                retry_after=wait,
            )
