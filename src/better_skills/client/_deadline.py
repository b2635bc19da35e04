"""A total deadline for each request of :class:`~better_skills.client._transport.ApiClient`.

httpx's timeouts are per operation: a server sending one byte every 4 s never trips a 5 s read
timeout and kept ``health`` busy for minutes. Here every socket operation of the transport
(connect, TLS, each read and write) waits at most until the request's deadline.
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpcore

from better_skills.client._httpx import httpx

__all__ = ["Deadline", "deadline_transport"]


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


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.cap(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.cap(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        limit = self._deadline.cap(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, limit), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend, deadline: Deadline) -> None:
        self._backend = backend
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        limit = self._deadline.cap(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, limit, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        limit = self._deadline.cap(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_unix_socket(path, limit, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_transport(verify: ssl.SSLContext | bool, deadline: Deadline) -> httpx.HTTPTransport:
    """httpx's own transport, with every socket operation bounded by ``deadline``.

    httpx has no total timeout (its timeouts are per operation), and ``HTTPTransport`` takes no
    network backend, so the backend of its pool is wrapped: ``_pool._network_backend`` is an
    internal of httpx and httpcore, pinned through httpx's exact version; a test
    (``test_a_trickling_server_is_cut_off_at_the_total_deadline``) fails if it moves.
    """
    transport = httpx.HTTPTransport(verify=verify)
    pool = transport._pool
    pool._network_backend = _DeadlineBackend(pool._network_backend, deadline)
    return transport
