"""A total deadline for each request of :class:`~better_skills.client._transport.ApiClient`.

Timeouts per operation are not enough: a server sending one byte every 4 s never trips a 5 s
read timeout and kept ``health`` busy for minutes. Every socket operation of a request
(connect, TLS, each read and write) waits at most until the request's deadline, both over
``http.client`` (``_http11``) and over httpx (``_httpx.deadline_transport``).
"""

from __future__ import annotations

import time

__all__ = ["Deadline"]


class Deadline:
    """The monotonic time the current request must be done by (``None`` between requests)."""

    at: float | None = None

    def cap(self, timeout: float | None, error: type[Exception]) -> float | None:
        """``timeout`` shortened to what is left; raises ``error`` once nothing is left."""
        if self.at is None:
            return timeout
        remaining = self.at - time.monotonic()
        if remaining <= 0:
            raise error("the request's total deadline passed")
        return remaining if timeout is None else min(timeout, remaining)
