"""ApiClient, the transport every API client shares: credential, deadline, errors, caps."""

from __future__ import annotations

import time

import httpx
import pytest

from better_skills.client._transport import ApiClient, Timeout
from better_skills.client.credentials import Credential
from better_skills.client.errors import (
    CredentialServerMismatch,
    NotAuthenticated,
    ServerUnreachable,
    UnexpectedResponse,
)
from better_skills.protocol.errors import NotFound, OAuthError
from tests.client.local_server import LocalServer, Recorded, Reply, trickle

BASE = "http://testserver"


def mock(handler: httpx.MockTransport | None = None, **kwargs: object) -> ApiClient:
    transport = handler or httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    return ApiClient(BASE, transport=transport, **kwargs)  # type: ignore[arg-type]


def test_the_credential_is_sent_only_when_asked_for() -> None:
    seen: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json={"ok": True})

    with mock(httpx.MockTransport(handle), credential=Credential("tok")) as api:
        assert api.request_json("GET", "/a") == {"ok": True}
        assert api.request_json("GET", "/b", auth=True) == {"ok": True}
    assert seen == [None, "Bearer tok"]


def test_auth_without_a_credential_is_not_authenticated() -> None:
    with mock() as api, pytest.raises(NotAuthenticated):
        api.send("GET", "/a", auth=True)


def test_a_credential_of_another_server_is_refused_before_any_request() -> None:
    requests: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: requests.append(r) or httpx.Response(200))
    other = Credential("tok", server="http://other.example")
    with pytest.raises(CredentialServerMismatch, match=r"logged in to http://other\.example"):
        ApiClient(BASE, credential=other, transport=transport)
    with ApiClient(BASE, transport=transport) as api, pytest.raises(CredentialServerMismatch):
        api.send("GET", "/a", auth=other)
    assert requests == []
    # Its own server gets it.
    with ApiClient(BASE, transport=transport) as api:
        api.send("GET", "/a", auth=Credential("tok", server=BASE))
    assert requests[0].headers["Authorization"] == "Bearer tok"


def test_the_credential_never_shows_in_its_repr() -> None:
    assert "secret" not in repr(Credential("secret-token"))


def test_a_refused_credential_is_not_authenticated_and_names_its_source() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(401, json={"error": "unauthorized"}))
    credential = Credential("tok", source="environment")
    with ApiClient(BASE, transport=transport, credential=credential) as api:
        with pytest.raises(NotAuthenticated, match="does not accept the token in BETTER_SKILLS"):
            api.request_json("GET", "/api/v1/me", auth=True)
        # Without a credential a 401 is the server's error like any other.
        with pytest.raises(OAuthError):
            api.request_json("GET", "/api/v1/me")


def test_contract_errors_become_protocol_errors_with_details() -> None:
    body = {
        "error": "not_found",
        "error_description": "No such \x1b[31mskill.",
        "details": [{"path": "files[0]", "message": "bad\u202e"}],
    }
    transport = httpx.MockTransport(lambda r: httpx.Response(404, json=body))
    with ApiClient(BASE, transport=transport) as api, pytest.raises(NotFound) as caught:
        api.request_json("GET", "/api/v1/skills/x")
    assert caught.value.description == "No such skill."
    assert caught.value.details == [{"path": "files[0]", "message": "bad"}]  # type: ignore[attr-defined]


def test_a_call_can_allow_a_larger_answer() -> None:
    big = b"x" * (70 * 1024)
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=big))
    with ApiClient(BASE, transport=transport) as api:
        with pytest.raises(UnexpectedResponse, match="too large"):
            api.send("GET", "/archive")
        assert api.send("GET", "/archive", max_bytes=1 << 20).body == big


# -- the total deadline (issue 16 item 10), against a real socket ------------------------------


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Slow: ", id="headers"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 60000\r\n\r\n", id="body"),
    ],
)
def test_a_trickling_server_is_cut_off_at_the_total_deadline(prefix: bytes) -> None:
    """One byte every 0.2 s never trips a per-read timeout of 1 s; the total deadline does."""

    def script(_request: Recorded) -> object:
        return trickle(prefix, every=0.2, limit=60)

    with LocalServer(script) as server:  # type: ignore[arg-type]
        started = time.monotonic()
        with (
            ApiClient(server.url, timeout=Timeout(total=1.0, connect=1.0)) as api,
            pytest.raises(ServerUnreachable, match="no answer in time"),
        ):
            api.send("GET", "/api/health")
        elapsed = time.monotonic() - started
    # Without a total deadline this takes the full 60 s of trickling.
    assert elapsed < 30


def test_a_real_server_answers_within_the_deadline() -> None:
    with (
        LocalServer(lambda request: Reply(200, {"path": request.path})) as server,
        ApiClient(server.url, timeout=Timeout(total=5.0, connect=2.0)) as api,
    ):
        assert api.request_json("GET", "/x") == {"path": "/x"}
        assert api.request_json("GET", "/y") == {"path": "/y"}  # a reused connection
