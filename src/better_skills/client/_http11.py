"""HTTP/1.1 over the standard library's ``http.client``: the network under :class:`ApiClient`.

Why not httpx here: importing httpx (with httpcore, h11 and its auth helpers) costs more than
everything else a ``sync`` with nothing to do, or a ``list``, does. ``http.client`` is already
what httpx imports for its helpers, so this costs nothing extra. httpx stays the client the
tests inject transports into (``ApiClient(transport=...)``).

What :class:`ApiClient` promises is kept here, by construction:

- a **total deadline**: connecting waits at most the connect timeout (and the deadline), and
  every later read and write of the socket (TLS handshake, headers, body) at most until the
  request's deadline, so a server that trickles bytes is cut off (``TimeoutError``);
- **TLS** verified for https with the same trust store as httpx (certifi's bundle, or
  ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), hostname checked; plain http never imports ``ssl``;
- **no redirects**: ``http.client`` never follows one; a 3xx is returned as it is;
- **size caps** are the caller's (:func:`read_capped` stops at ``max_bytes``), and
  ``http.client`` caps header lines (64 KiB) and their count (100).

One connection is kept open between requests of a client and dropped when the server closed
it (checked before it is reused) or said it would.
"""

from __future__ import annotations

import http.client
import io
import os
import select
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import ssl

    from better_skills.client._deadline import Deadline

__all__ = ["ConnectTimeout", "Http11", "Http11Error", "read_capped", "tls_context"]

#: What ``http.client`` raises for a broken answer or connection, besides ``OSError``.
Http11Error = http.client.HTTPException


class ConnectTimeout(TimeoutError):
    """No connection (TCP and TLS) within the connect timeout or the deadline."""


def tls_context() -> ssl.SSLContext:
    """A verifying TLS context with httpx's trust store (``create_ssl_context(verify=True)``)."""
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class _DeadlineReader(io.RawIOBase):
    """The socket as a raw file whose every read waits at most until the deadline."""

    def __init__(self, owner: _DeadlineSocket) -> None:
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        sock = self._owner.sock
        sock.settimeout(self._owner.deadline.cap(None, TimeoutError))
        return sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._owner.release()
        super().close()


class _DeadlineSocket:
    """What ``http.client`` uses of a socket (``sendall``, ``makefile``, ``close``), each
    operation bounded by the deadline. As with ``socket.makefile``, the socket stays open until
    the response reading from it is closed too (``http.client`` hands it over that way)."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self.sock = sock
        self.deadline = deadline
        self._readers = 0
        self._closed = False

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self.sock.settimeout(self.deadline.cap(None, TimeoutError))
            sent = self.sock.send(view)
            view = view[sent:]

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        assert mode == "rb", mode
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self))

    def release(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self.sock.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self.sock.close()


class _Connection(http.client.HTTPConnection):
    def __init__(
        self, host: str, port: int, *, tls: ssl.SSLContext | None, deadline: Deadline
    ) -> None:
        super().__init__(host, port)
        self._tls = tls
        self._deadline = deadline
        self.connect_timeout = 5.0

    def connect(self) -> None:
        try:
            limit = self._deadline.cap(self.connect_timeout, ConnectTimeout)
            # An ASCII name as bytes: the socket module would import the idna codec for a str.
            host = self.host.encode("ascii") if self.host.isascii() else self.host
            sock = socket.create_connection((host, self.port), timeout=limit)  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise ConnectTimeout(str(exc)) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock.settimeout(self._deadline.cap(self.connect_timeout, ConnectTimeout))
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeout(str(exc)) from None
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(sock, self._deadline)

    def dropped(self) -> bool:
        """The server closed the idle connection (or sent something unasked): don't reuse it."""
        wrapped = self.sock
        if wrapped is None:
            return False
        raw = wrapped.sock if isinstance(wrapped, _DeadlineSocket) else wrapped
        try:
            readable, _, _ = select.select([raw], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


class Http11:
    """Requests to one server (``base_url``: scheme, host and port) over one connection."""

    def __init__(self, base_url: str, deadline: Deadline) -> None:
        parts = urlsplit(base_url)
        self.https = parts.scheme.lower() == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self._deadline = deadline
        self._tls: ssl.SSLContext | None = None
        self._conn: _Connection | None = None

    def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        connect_timeout: float,
    ) -> http.client.HTTPResponse:
        """Send one request (``target``: path and query) and return the response with its
        headers read; the caller reads the body (:func:`read_capped`) and closes it."""
        conn = self._conn
        if conn is not None and conn.dropped():
            conn.close()
            conn = None
        if conn is None:
            if self.https and self._tls is None:
                self._tls = tls_context()
            conn = self._conn = _Connection(
                self.host, self.port, tls=self._tls, deadline=self._deadline
            )
        conn.connect_timeout = connect_timeout
        try:
            conn.request(method, self.prefix + target, body=body, headers=dict(headers))
            response = conn.getresponse()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self._conn = None  # http.client closes its socket once the body is read
        return response

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def read_capped(
    response: http.client.HTTPResponse, max_bytes: int, too_large: type[Exception]
) -> bytes:
    """The whole body, or ``too_large`` as soon as it passes ``max_bytes`` (declared or not)."""
    declared = response.getheader("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(f"The server's answer is too large ({declared} bytes).")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise too_large(f"The server's answer is larger than {max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
