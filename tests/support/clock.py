"""The one fake clock of the tests: time that moves only when a test says so.

It serves both sides. The server takes a callable that returns wall time in epoch seconds
(``clock()``); the client's :class:`~better_skills.client.clock.Clock` takes ``monotonic()``,
``sleep()`` and ``now()``. Both read one timeline, so ``advance`` and ``sleep`` move the wall
and the monotonic time together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: Where the monotonic time starts: any origin does, as with time.monotonic().
MONOTONIC_START = 1000.0


class FakeClock:
    """``start``: the wall time at the start, in epoch seconds (default 2027-01-15 08:00 UTC).

    ``t`` is the monotonic time; ``sleeps`` records every ``sleep`` (which moves time, then
    calls ``on_sleep`` when a test set it)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = MONOTONIC_START
        self._wall_at_t0 = start
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[float], None] | None = None

    def __call__(self) -> float:
        return self._wall_at_t0 + (self.t - MONOTONIC_START)

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)
