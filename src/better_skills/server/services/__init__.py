"""The rules of the auth server. Services take plain values and a database, never HTTP objects."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: Returns the current time in seconds since the epoch; tests pass a fake one.
Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()


def to_ms(seconds: float) -> int:
    return int(seconds * 1000)


@dataclass(frozen=True)
class Caller:
    """Who is calling, as far as the server can tell: recorded with codes, sessions and audit."""

    ip: str | None = None
    user_agent: str | None = None
