"""A real HTTP server on 127.0.0.1, in a thread, for tests of what the CLI sends and survives.

It records every request (method, path, headers, body), so a test can prove that a token was or
was not sent (the spy server of issue 15), and answers through a script: a function from the
recorded request to a :class:`Reply`, or to a callable that writes raw bytes to the socket (the
hostile-server modes of issue 16: trickling bytes, broken answers).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


#: Writes an answer itself; gets the socket's file and an event set when the server stops.
RawWriter = Callable[[BinaryIO, threading.Event], None]
Script = Callable[[Recorded], "Reply | RawWriter"]


def not_found(_request: Recorded) -> Reply:
    return Reply(404, {"error": "not_found", "error_description": "Not found."})


class LocalServer:
    """``with LocalServer(script) as server: ... server.url ... server.requests``."""

    def __init__(self, script: Script = not_found) -> None:
        self.script = script
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(
                    self.command,
                    self.path,
                    {key.lower(): value for key, value in self.headers.items()},
                    body,
                )
                outer.requests.append(recorded)
                answer = outer.script(recorded)
                if isinstance(answer, Reply):
                    payload = answer.encoded()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                else:
                    self.close_connection = True
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        answer(self.wfile, outer.stopping)

            do_GET = do_POST = do_DELETE = do_PUT = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def trickle(prefix: bytes, *, every: float = 0.2, limit: float = 60.0) -> RawWriter:
    """Send ``prefix``, then one byte every ``every`` seconds for up to ``limit`` seconds."""

    def write(wfile: BinaryIO, stopping: threading.Event) -> None:
        wfile.write(prefix)
        wfile.flush()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not stopping.wait(every):
            wfile.write(b"a")
            wfile.flush()

    return write


class AuthScript:
    """A small better-skills auth server for :class:`LocalServer`: device flow, sessions.

    Every token it issues is ``<name>-token-<n>``; ``valid`` holds the tokens it accepts.
    """

    def __init__(self, name: str, *, valid: set[str] | None = None) -> None:
        self.name = name
        self.valid: set[str] = set(valid or ())
        self.issued = 0
        self.url = ""  # set by the test once the server runs: verification URIs point at it
        self.device_code_extra: dict[str, Any] = {}
        self.user = {"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com"}
        self.sign_out_reply: Reply | None = None

    def __call__(self, request: Recorded) -> Reply:
        path = request.path.split("?", 1)[0]
        token = (request.authorization or "").partition(" ")[2]
        if path == "/api/auth/device/code":
            body = {
                "device_code": "dc",
                "user_code": "BCDFGHJK",
                "verification_uri": f"{self.url}/device",
                "verification_uri_complete": f"{self.url}/device?user_code=BCDFGHJK",
                "expires_in": 600,
                "interval": 1,
            }
            body.update(self.device_code_extra)
            return Reply(200, body)
        if path == "/api/auth/device/token":
            self.issued += 1
            new = f"{self.name}-token-{self.issued}"
            self.valid.add(new)
            return Reply(200, {"access_token": new, "token_type": "Bearer", "expires_in": 28800})
        if path == "/api/auth/get-session":
            if token not in self.valid:
                return Reply(200, None)
            session = {
                "id": "s1",
                "userId": "u1",
                "createdAt": "2024-03-15T10:30:00.000Z",
                "expiresAt": "2099-03-15T18:30:00.000Z",
            }
            return Reply(200, {"session": session, "user": self.user})
        if path == "/api/auth/sign-out":
            if self.sign_out_reply is not None:
                return self.sign_out_reply
            ended = token in self.valid
            self.valid.discard(token)
            return Reply(200, {"success": True, "signed_out": ended})
        if path == "/api/health":
            return Reply(200, {"status": "ok", "version": "1.0.0", "database": "ok"})
        return not_found(request)

    @staticmethod
    def tokens_seen(server: LocalServer) -> list[str]:
        return [r.authorization.partition(" ")[2] for r in server.requests if r.authorization]
