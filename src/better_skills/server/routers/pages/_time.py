"""Times as the pages show them: a readable date and how long ago or how soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request

from better_skills.server.dependencies import services
from better_skills.server.services import to_ms


@dataclass(frozen=True)
class Moment:
    """A time as the pages show it: machine-readable, readable, and relative to now."""

    iso: str
    text: str
    relative: str


def moment(epoch_ms: int, now_ms: int) -> Moment:
    when = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return Moment(
        iso=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        text=f"{when.day} {when:%b %Y, %H:%M} UTC",
        relative=relative_time((epoch_ms - now_ms) / 1000),
    )


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def duration_text(seconds: float) -> str:
    """``"8 hours"``, ``"30 minutes"``, ``"2 days"``: the largest fitting unit, rounded."""
    seconds = abs(seconds)
    # (unit, its length, from when on it is used): 90 minutes, then 2 hours.
    for unit, size, start in (
        ("day", 86400, 36 * 3600),
        ("hour", 3600, 90 * 60),
        ("minute", 60, 60),
    ):
        if seconds >= start:
            return _count(int(seconds / size + 0.5), unit)
    return _count(max(1, int(seconds)), "second")


def relative_time(delta_seconds: float) -> str:
    """``"5 minutes ago"`` for the past, ``"in 25 minutes"`` for the future."""
    if abs(delta_seconds) < 60:
        return "in less than a minute" if delta_seconds > 0 else "just now"
    text = duration_text(delta_seconds)
    return f"in {text}" if delta_seconds > 0 else f"{text} ago"


def now_ms(request: Request) -> int:
    return to_ms(services(request).clock())
