"""Durations in words, as the pages, the server's messages and the CLI say them: one rule."""

from __future__ import annotations

import math

#: Units from the largest; a unit is used from 0.95 of it on ("1 hour" from 57 minutes).
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))
#: Below this many seconds a moment is "just now" (or "in a few seconds").
_NOW_SECONDS = 45


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def duration_text(seconds: float, *, round_up: bool = False) -> str:
    """``"8 hours"``, ``"30 minutes"``, ``"2 days"``, ``"45 seconds"``: the largest fitting
    unit, rounded half up, or up with ``round_up`` (a wait must never be understated)."""
    seconds = abs(seconds)
    for unit, size in _UNITS:
        if seconds >= size * 0.95:
            count = math.ceil(seconds / size) if round_up else int(seconds / size + 0.5)
            return _count(max(1, count), unit)
    return _count(max(1, math.ceil(seconds) if round_up else int(seconds + 0.5)), "second")


def relative_text(delta_seconds: float) -> str:
    """``"5 minutes ago"`` for the past, ``"in 25 minutes"`` for the future, ``"just now"``
    and ``"in a few seconds"`` close to now."""
    if abs(delta_seconds) < _NOW_SECONDS:
        return "in a few seconds" if delta_seconds > 0 else "just now"
    text = duration_text(delta_seconds)
    return f"in {text}" if delta_seconds > 0 else f"{text} ago"
