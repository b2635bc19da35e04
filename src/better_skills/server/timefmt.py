"""Times on the wire: ISO 8601 UTC with milliseconds and ``Z``, as JavaScript's Date prints.

The format is defined once, in :mod:`better_skills.protocol.wire`, for the CLI and the server.
"""

from __future__ import annotations

from better_skills.protocol.wire import iso_ms

__all__ = ["iso_ms"]
