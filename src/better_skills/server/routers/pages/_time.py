"""Times as the pages show them: a readable date and how long ago or how soon (the words
of ``protocol.durations``, which the CLI uses too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request

from better_skills.protocol.durations import duration_text, relative_text
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
        relative=relative_text((epoch_ms - now_ms) / 1000),
    )


def now_ms(request: Request) -> int:
    return to_ms(services(request).clock())


__all__ = ["Moment", "duration_text", "moment", "now_ms"]
