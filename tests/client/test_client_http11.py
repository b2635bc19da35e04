"""The CLI's network, ``http.client`` under ApiClient (``_http11``), against real sockets: TLS
verified, no redirects, size caps, the connection reused or renewed, and no httpx for a
plain-http sync. (The total deadline against a trickling server: test_client_transport.)"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from better_skills.client._http11 import tls_context
from better_skills.client._transport import ApiClient, Timeout
from better_skills.client.credentials import Credential
from better_skills.client.errors import ServerUnreachable, UnexpectedResponse
from tests.client.local_server import LocalServer, Recorded, Reply


def test_https_is_verified_against_a_ca_bundle() -> None:
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.get_ca_certs() != []


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server on 127.0.0.1 with a self-signed certificate for ``localhost``: it answers
    every request with ``{"ok": true}``. Yields its port and the certificate file."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.recv(65536)
                    body = b'{"ok": true}'
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
            except (ssl.SSLError, OSError):
                pass  # the client refused our certificate

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], cert
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_a_certificate_that_is_not_trusted_is_refused(
    tls_server: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with (
        ApiClient(f"https://localhost:{port}", credential=Credential("tok")) as api,
        pytest.raises(ServerUnreachable, match="certificate verify failed"),
    ):
        api.send("GET", "/x", auth=True)
    # The same server, once its certificate is trusted (as httpx: SSL_CERT_FILE), is used.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with ApiClient(f"https://localhost:{port}") as api:
        assert api.request_json("GET", "/x") == {"ok": True}
    # ...but only under the name in the certificate.
    with (
        ApiClient(f"https://127.0.0.1:{port}") as api,
        pytest.raises(ServerUnreachable, match=r"certificate verify failed|match"),
    ):
        api.send("GET", "/x")


def test_redirects_are_not_followed() -> None:
    def script(request: Recorded) -> Reply:
        return Reply(302, {}, headers={"Location": "http://127.0.0.1:1/steal"})

    with LocalServer(script) as server, ApiClient(server.url, credential=Credential("t")) as api:
        response = api.send("GET", "/a", auth=True)
        assert response.status_code == 302
        assert [r.path for r in server.requests] == ["/a"]


def test_an_answer_over_its_cap_is_refused_and_the_next_request_still_works() -> None:
    def script(request: Recorded) -> Reply:
        if request.path == "/big":
            return Reply(200, b"x" * 5000)
        return Reply(200, {"path": request.path})

    with LocalServer(script) as server, ApiClient(server.url) as api:
        with pytest.raises(UnexpectedResponse, match="too large"):
            api.send("GET", "/big", max_bytes=1000)
        assert api.request_json("GET", "/after") == {"path": "/after"}


def test_an_undeclared_length_is_capped_while_reading() -> None:
    def script(_request: Recorded) -> object:
        def write(wfile, _stopping):  # type: ignore[no-untyped-def]
            wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 5000)

        return write

    with (
        LocalServer(script) as server,  # type: ignore[arg-type]
        ApiClient(server.url) as api,
        pytest.raises(UnexpectedResponse, match="larger than 1000 bytes"),
    ):
        api.send("GET", "/big", max_bytes=1000)


def test_bodies_headers_and_queries_are_sent_as_httpx_sent_them() -> None:
    with (
        LocalServer(lambda request: Reply(200, {})) as server,
        ApiClient(server.url, credential=Credential("tok")) as api,
    ):
        api.send("POST", "/j", json_body={"a": "é"}, auth=True)
        api.send("POST", "/f", form={"grant": "x y"})
        api.send("GET", "/q", params={"include_disabled": "1"}, headers={"If-None-Match": '"e"'})
        api.send("DELETE", "/d")
    j, f, q, d = server.requests
    assert (j.body, j.headers["content-type"]) == ('{"a":"é"}'.encode(), "application/json")
    assert j.authorization == "Bearer tok"
    assert (f.body, f.headers["content-type"]) == (
        b"grant=x+y",
        "application/x-www-form-urlencoded",
    )
    assert f.authorization is None
    assert (q.path, q.headers["if-none-match"]) == ("/q?include_disabled=1", '"e"')
    assert q.headers["user-agent"].startswith("better-skills-cli/")
    assert d.method == "DELETE"


def test_a_connection_closed_by_the_server_is_renewed() -> None:
    def script(request: Recorded) -> Reply:
        return Reply(200, {"path": request.path}, headers={"Connection": "close"})

    with LocalServer(script) as server, ApiClient(server.url) as api:
        for path in ("/1", "/2", "/3"):
            assert api.request_json("GET", path) == {"path": path}


def test_a_refused_connection_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        ApiClient(f"http://127.0.0.1:{port}", timeout=Timeout(total=2.0, connect=1.0)) as api,
        pytest.raises(ServerUnreachable, match="connection refused"),
    ):
        api.send("GET", "/x")


def test_a_plain_http_sync_imports_no_httpx_nor_ca_bundle() -> None:
    """What ``sync`` and ``list`` load to talk to an http server: no httpx (about as long to
    import as the rest of a no-op sync), no CA bundle (certifi)."""
    code = (
        "import sys\n"
        "import better_skills.cli.commands.sync, better_skills.sync.engine\n"
        "import better_skills.sync.remote, better_skills.cli.skill_online\n"
        "from better_skills.client._transport import ApiClient\n"
        "ApiClient('http://127.0.0.1:9').close()\n"
        "print(sorted(m for m in ('httpx', 'httpcore', 'h11', 'certifi') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
