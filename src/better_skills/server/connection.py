"""HTTP connections: uvicorn's httptools protocol with bounded headers and read timeouts.

uvicorn with ``httptools`` puts no limit on request headers (a 1 MB header and 10,000 headers
were accepted; an unterminated 256 MB header was buffered whole) and no timeout on a client
that connects and sends nothing, or sends its headers or body a byte at a time. This protocol
adds both:

* the request line and headers together at most ``MAX_HEAD_BYTES``, one header (name and
  value) at most ``MAX_HEADER_BYTES``, at most ``MAX_HEADERS`` headers: else ``431``, and the
  connection is closed (the request target alone over ``MAX_HEADER_BYTES``: ``414``);
* the headers must arrive within ``header_timeout`` of the connection opening (or of the first
  byte of a follow-up request on a kept-alive connection), the body within ``body_timeout`` of
  the headers: else ``408`` (or a silent close when nothing of a request was sent);
* beyond ``max_connections`` open connections, a new one is answered ``503`` and closed at
  once (uvicorn's ``limit_concurrency`` keeps every connection open and answers 503 only to
  requests, so idle connections would still hold a file descriptor each).

Idle kept-alive connections are closed by uvicorn's own ``timeout_keep_alive``;
:func:`better_skills.server.main.main` sets it, and these limits, from the settings.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

#: The request line and all headers of one request.
MAX_HEAD_BYTES = 64 * 1024
#: One header's name and value, and the request target.
MAX_HEADER_BYTES = 16 * 1024
#: Headers (and trailers) of one request.
MAX_HEADERS = 100


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take to send a request's headers, and then its body."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int | None = None


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the answer is in ``_refusal``."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the limits of this module."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: ConnectionLimits = getattr(config, "connection_limits", ConnectionLimits())
        self._in_head = True  # bytes from now on belong to a request line or headers
        self._head_bytes = 0
        self._header_count = 0
        self._head_started = False  # a byte of the current request's head has arrived
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None

    # -- Connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cap = self.limits.max_connections
        if cap is not None and len(self.connections) > cap:
            self.logger.debug("Refused a connection: %d open", len(self.connections))
            self._refuse(503, "The server has too many connections; try again.", retry=True)
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._in_head and self._head_timer is None:
            # The first bytes after a kept-alive pause (even a bare CRLF, which starts no
            # message but ends uvicorn's keep-alive timer): the head's clock starts now.
            self._arm_head_timer()
        while data:
            if self._in_head:
                # Feed no more than the head may still hold, so that an endless header is
                # refused after MAX_HEAD_BYTES, not buffered by the parser without bound.
                room = MAX_HEAD_BYTES - self._head_bytes
                if room <= 0:
                    self._refuse(431, "The request headers are too large.")
                    return
                piece, data = data[:room], data[room:]
                self._head_bytes += len(piece)
            else:
                piece, data = data, b""
            if not self._feed(piece):
                return

    def _feed(self, data: bytes) -> bool:
        """Parse ``data``; False when the connection is being closed."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No upgrades (the server runs without WebSockets): the request was answered as
            # an ordinary one; what follows its head is ignored. uvicorn's two warning lines
            # (suggesting to install a WebSocket library) would let anyone fill the log.
            self.logger.debug("Ignored the upgrade of a request.")
        except httptools.HttpParserError:
            if self._refusal is not None:
                self._refuse(*self._refusal)
            else:
                self.logger.debug("Invalid HTTP request received.")
                self._refuse(400, "The request is not valid HTTP.")
            return False
        return not self.transport.is_closing()

    # -- Parser callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_HEADER_BYTES:
            self._stop(414, "The request target is too long.")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > MAX_HEADERS:
            self._stop(431, f"A request may have at most {MAX_HEADERS} headers.")
        if len(name) + len(value) > MAX_HEADER_BYTES:
            self._stop(431, "A request header is too large.")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_started = False
        self._cancel_head_timer()
        super().on_headers_complete()
        if not self.transport.is_closing():
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_late)

    def on_message_complete(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._header_count = 0
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    # -- Refusals and timeouts -------------------------------------------------------------

    def _stop(self, status: int, message: str) -> None:
        self._refusal = (status, message)
        raise _Refused(message)

    def _refuse(self, status: int, message: str, *, retry: bool = False) -> None:
        """Answer ``status`` with an RFC 6749 shaped body, unless a response has begun, and
        close the connection."""
        self._cancel_timers()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            if cycle is not None and not cycle.response_complete:
                # The application may still be running: its receive() now sees a disconnect
                # and its send() writes nothing, so this is the only answer on the wire.
                cycle.disconnected = True
                cycle.message_event.set()
            body = json.dumps({"error": "invalid_request", "error_description": message}).encode()
            head = [STATUS_LINE[status]]
            for name, value in self.server_state.default_headers:
                head += [name, b": ", value, b"\r\n"]
            head += [
                b"content-type: application/json\r\n",
                b"content-length: %d\r\n" % len(body),
                b"cache-control: no-store\r\n",
                b"x-content-type-options: nosniff\r\n",
                b"retry-after: 1\r\n" if retry else b"",
                b"connection: close\r\n\r\n",
            ]
            self.transport.write(b"".join(head) + body)
        self.transport.close()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_late)

    def _head_late(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # Still answering the previous request: the client is not the one late.
            self._arm_head_timer()
        elif self._head_started or self._head_bytes:
            self._refuse(408, "The request headers took too long to arrive.")
        else:
            self.transport.close()  # connected and said nothing: close without an answer

    def _body_late(self) -> None:
        self._body_timer = None
        if not self.transport.is_closing():
            self._refuse(408, "The request body took too long to arrive.")

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
