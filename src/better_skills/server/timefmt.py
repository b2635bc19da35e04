"""Times on the wire: ISO 8601 UTC with milliseconds and ``Z``, as JavaScript's Date prints."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_ms(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"
