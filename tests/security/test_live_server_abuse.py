"""Against a real server process over a real socket: malformed HTTP that no client library
would send, and secrets that must never reach the server's log, even at debug level."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import pytest

from better_skills.protocol.device_flow import (
    CLIENT_ID,
    DEVICE_CODE_GRANT_TYPE,
    Paths,
    normalize_user_code,
)
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.backends("sqlite")  # HTTP parsing and logging: one backend is enough


def raw_request(port: int, data: bytes, timeout: float = 5) -> bytes:
    """Send bytes as they are; return whatever comes back before the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


MALFORMED = [
    # CR/LF and NUL inside the request target, raw (not percent-encoded)
    b"GET /api/auth/device?user_code=BCDF\r\nSet-Cookie: x=y HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /device?user_code=BCDF\x00GHJK HTTP/1.1\r\nHost: a\r\n\r\n",
    # a header value with NUL, with a bare CR, and a folded (obsolete) continuation line
    b"GET /api/health HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\x00evil\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: a\r\nUser-Agent: a\rSet-Cookie: x=y\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: a\r\nUser-Agent: a\r\n Set-Cookie: x=y\r\n\r\n",
    # bodies that disagree with their framing
    b"POST /api/auth/device/code HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
    b"Content-Length: 50\r\nContent-Type: application/json\r\n\r\n{}",
    b"POST /api/auth/device/code HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    b"POST /api/auth/device/code HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 3\r\n\r\nfffffffffffffffff\r\n",
    # a header of 100 KiB, and garbage instead of HTTP
    b"GET /api/health HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
    b"GET / HTTP/9.9\r\n\r\n",
]


def test_malformed_http_never_gets_through_or_down(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory()
    for data in MALFORMED:
        answer = raw_request(server.port, data)
        head = answer.split(b"\r\n\r\n", 1)[0]
        if answer:
            status = int(head.split(b" ", 2)[1])
            assert 400 <= status < 500 or status == 200, (data[:60], head[:200])
        for line in head.split(b"\r\n")[1:]:
            assert not line.lower().startswith(b"set-cookie: x=y"), (data[:60], head)
        assert b"Traceback" not in answer
    # Still alive and well.
    assert httpx.get(server.url + Paths.HEALTH).json()["status"] == "ok"
    assert "Traceback" not in server.log()


def test_no_secret_reaches_the_log_even_at_debug_level(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory(LOG_LEVEL="debug", POLL_INTERVAL="1")
    password = "Sup3r-secret horse battery"
    person = server.browser()
    browser_token = person.sign_up("Ada", "ada@example.com", password)["token"]
    with server.client() as device:
        code = device.post(Paths.DEVICE_CODE, json={"client_id": CLIENT_ID}).json()
        poll = {
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": code["device_code"],
            "client_id": CLIENT_ID,
        }
        device.post(Paths.DEVICE_TOKEN, data=poll)
        person.approve(code["user_code"])
        time.sleep(1.1)
        access_token = device.post(Paths.DEVICE_TOKEN, data=poll).json()["access_token"]
        bearer = {"Authorization": f"Bearer {access_token}"}
        device.get(Paths.GET_SESSION, headers=bearer)
        device.get("/trpc/me", headers=bearer)
        # Failures carry secrets too: a wrong password, a replayed code, a bad body.
        device.post(
            Paths.SIGN_IN_EMAIL, json={"email": "ada@example.com", "password": "x" + password}
        )
        device.post(Paths.DEVICE_TOKEN, data=poll)
        device.post(Paths.DEVICE_TOKEN, content=b"device_code=" + code["device_code"].encode())
        device.get("/device", params={"user_code": code["user_code"]})
        device.post(Paths.SIGN_OUT, headers=bearer)
    person.close()
    server.stop()  # flush and close the log
    log = server.log()
    assert "listening on" in log  # the log is there, at debug level
    for secret in (
        password,
        browser_token,
        access_token,
        code["device_code"],
        code["user_code"],
        normalize_user_code(code["user_code"]),
    ):
        assert secret not in log, f"a secret is in the server log: {secret[:6]}..."
