"""AuthClient against a MockTransport: the device flow, the poll loop, sessions, health."""

from __future__ import annotations

import json

import httpx
import pytest

from better_skills.client._transport import ApiClient
from better_skills.client.api import (
    MAX_BACKOFF,
    MAX_RESPONSE_BYTES,
    AuthClient,
    PollProgress,
)
from better_skills.client.credentials import Credential
from better_skills.client.errors import ServerError, ServerUnreachable, UnexpectedResponse
from better_skills.protocol.device_flow import (
    CLIENT_ID,
    DEFAULT_SCOPE,
    SLOW_DOWN_INCREMENT,
    Paths,
)
from better_skills.protocol.errors import (
    AccessDenied,
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    OAuthError,
)
from tests.client.fakes import BASE_URL, FakeAuthServer, fake_clock, oauth_error
from tests.support.clock import FakeClock


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("[Errno 111] Connection refused")


# -- device code ---------------------------------------------------------------------------


def test_device_code_request_sends_the_contract_body() -> None:
    server = FakeAuthServer()
    with server.client() as client:
        authorization = client.request_device_code()
    request = server.requests[0]
    assert request.method == "POST"
    assert request.url == f"{BASE_URL}{Paths.DEVICE_CODE}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"client_id": CLIENT_ID, "scope": DEFAULT_SCOPE}
    assert request.headers["User-Agent"].startswith("better-skills-cli/")
    assert authorization.device_code == "device-code-1"
    assert authorization.display_code == "BCDF-GHJK"
    assert authorization.browser_url == f"{BASE_URL}/device?user_code=BCDFGHJK"
    assert (authorization.expires_in, authorization.interval) == (1800.0, 5.0)


def test_device_code_interval_defaults_to_five_seconds() -> None:
    server = FakeAuthServer(interval=None, verification_uri_complete=None)
    with server.client() as client:
        authorization = client.request_device_code()
    assert authorization.interval == 5.0
    assert authorization.browser_url == authorization.verification_uri


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "/device",
        "http://",
        "http://evil.example/\x1b]0;pwned\x07",
        "https://good.example/device\u202e",
        "",
        None,
    ],
)
def test_a_verification_uri_that_is_not_http_is_refused(uri: str | None) -> None:
    server = FakeAuthServer(verification_uri=uri)  # type: ignore[arg-type]
    with server.client() as client, pytest.raises(UnexpectedResponse, match="verification_uri"):
        client.request_device_code()


def test_a_non_http_complete_uri_is_refused_too() -> None:
    server = FakeAuthServer(verification_uri_complete="javascript:alert(1)")
    with server.client() as client, pytest.raises(UnexpectedResponse):
        client.request_device_code()


@pytest.mark.parametrize("field_name", ["expires_in", "interval"])
@pytest.mark.parametrize("value", ["5", 0, -1, True])
def test_interval_and_expiry_must_be_positive_numbers(field_name: str, value: object) -> None:
    answer = {
        "device_code": "d",
        "user_code": "BCDFGHJK",
        "verification_uri": f"{BASE_URL}/device",
        "expires_in": 1800,
        "interval": 5,
        field_name: value,
    }
    server = FakeAuthServer(device_code_response=httpx.Response(200, json=answer))
    with server.client() as client, pytest.raises(UnexpectedResponse, match=field_name):
        client.request_device_code()


def test_escape_sequences_are_removed_from_the_user_code() -> None:
    server = FakeAuthServer(user_code="BCDF\x1b[2JGHJK")
    with server.client() as client:
        assert client.request_device_code().display_code == "BCDF-GHJK"


def test_device_code_errors_become_protocol_error_classes() -> None:
    server = FakeAuthServer(device_code_response=oauth_error("invalid_client", 400, "Who?"))
    with server.client() as client, pytest.raises(InvalidClient) as caught:
        client.request_device_code()
    assert caught.value.description == "Who?"


def test_an_unknown_error_code_keeps_its_name() -> None:
    server = FakeAuthServer(device_code_response=oauth_error("brand_new_error"))
    with server.client() as client, pytest.raises(OAuthError) as caught:
        client.request_device_code()
    assert caught.value.error == "brand_new_error"


def test_a_404_html_page_is_an_unexpected_response() -> None:
    server = FakeAuthServer(device_code_response=httpx.Response(404, text="<html>nope</html>"))
    with server.client() as client, pytest.raises(UnexpectedResponse, match="HTTP 404"):
        client.request_device_code()


def test_connection_refused_is_server_unreachable() -> None:
    server = FakeAuthServer(device_code_response=connect_error())
    with server.client() as client, pytest.raises(ServerUnreachable) as caught:
        client.request_device_code()
    assert caught.value.reason == "connection refused"
    assert BASE_URL in caught.value.message


def test_timeouts_are_reported_as_unreachable() -> None:
    server = FakeAuthServer(device_code_response=httpx.ReadTimeout("slow"))
    with server.client() as client, pytest.raises(ServerUnreachable, match="no answer in time"):
        client.request_device_code()


# -- the poll loop -------------------------------------------------------------------------


def poll(server: FakeAuthServer, clock: FakeClock, progress: list[PollProgress] | None = None):
    with server.client(clock) as client:
        authorization = client.request_device_code()
        return client.poll_for_token(
            authorization, on_progress=progress.append if progress is not None else None
        )


def test_pending_then_approved_waits_the_interval_before_each_poll() -> None:
    clock = fake_clock()
    server = FakeAuthServer(token_steps=["pending", "pending", "token"])
    progress: list[PollProgress] = []
    grant = poll(server, clock, progress)
    assert grant.access_token == "token-1"
    assert grant.token_type == "Bearer"
    assert grant.expires_in == 28800
    assert clock.sleeps == [5, 5, 5]
    assert [p.state for p in progress] == ["waiting"] * 3
    assert progress[0].deadline == 1000.0 + 1800
    assert [p.attempts for p in progress] == [0, 1, 2]


def test_the_interval_is_never_under_one_second() -> None:
    clock = fake_clock()
    server = FakeAuthServer(interval=0.2, token_steps=["pending", "token"])
    poll(server, clock)
    assert clock.sleeps == [1.0, 1.0]


def test_slow_down_adds_five_seconds_for_all_later_polls() -> None:
    clock = fake_clock()
    server = FakeAuthServer(token_steps=["slow_down", "pending", "slow_down", "pending", "token"])
    progress: list[PollProgress] = []
    poll(server, clock, progress)
    step = SLOW_DOWN_INCREMENT
    assert clock.sleeps == [5, 5 + step, 5 + step, 5 + 2 * step, 5 + 2 * step]
    assert [p.state for p in progress] == [
        "waiting",
        "slow_down",
        "waiting",
        "slow_down",
        "waiting",
    ]
    assert progress[-1].interval == 15


def test_access_denied_stops_polling() -> None:
    server = FakeAuthServer(token_steps=["pending", "denied", "token"])
    with pytest.raises(AccessDenied):
        poll(server, fake_clock())
    assert server.paths().count(Paths.DEVICE_TOKEN) == 2


def test_expired_token_from_the_server_stops_polling() -> None:
    server = FakeAuthServer(token_steps=["expired"])
    with pytest.raises(ExpiredToken):
        poll(server, fake_clock())


def test_other_oauth_errors_are_fatal() -> None:
    server = FakeAuthServer(token_steps=["invalid_grant", "token"])
    with pytest.raises(InvalidGrant):
        poll(server, fake_clock())


def test_the_deadline_from_expires_in_ends_the_loop_without_another_request() -> None:
    clock = fake_clock()
    server = FakeAuthServer(interval=5, expires_in=12)  # always pending
    with pytest.raises(ExpiredToken):
        poll(server, clock)
    assert clock.sleeps == [5, 5, 2]
    assert clock.t == 1000.0 + 12
    assert server.paths().count(Paths.DEVICE_TOKEN) == 2


def test_network_errors_back_off_doubling_and_recover() -> None:
    clock = fake_clock()
    server = FakeAuthServer(
        token_steps=[connect_error(), connect_error(), connect_error(), "pending", "token"]
    )
    progress: list[PollProgress] = []
    grant = poll(server, clock, progress)
    assert grant.access_token == "token-1"
    assert clock.sleeps == [5, 10, 20, 40, 5]
    assert [p.state for p in progress] == ["waiting", "retrying", "retrying", "retrying", "waiting"]
    assert progress[1].error == "connection refused"


def test_backoff_is_capped_and_continues_until_the_code_expires() -> None:
    clock = fake_clock()
    server = FakeAuthServer(expires_in=300, token_steps=[connect_error()] * 100)
    with pytest.raises(ExpiredToken):
        poll(server, clock)
    assert clock.sleeps[:5] == [5, 10, 20, 40, MAX_BACKOFF]
    assert max(clock.sleeps) == MAX_BACKOFF
    assert clock.t == 1000.0 + 300


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(status: int) -> None:
    clock = fake_clock()
    server = FakeAuthServer(token_steps=[httpx.Response(status, text="oops"), "token"])
    progress: list[PollProgress] = []
    poll(server, clock, progress)
    assert clock.sleeps == [5, 10]
    assert progress[1].error == f"server error, HTTP {status}"


def test_rate_limiting_honours_retry_after() -> None:
    clock = fake_clock()
    limited = httpx.Response(
        429, json={"error": "too_many_requests"}, headers={"Retry-After": "30"}
    )
    server = FakeAuthServer(token_steps=[limited, "token"])
    poll(server, clock)
    assert clock.sleeps == [5, 30]


def test_interrupt_during_the_wait_propagates_and_sends_nothing_more() -> None:
    clock = fake_clock()
    server = FakeAuthServer(token_steps=["pending"] * 10)

    def interrupt_on_third_sleep(_seconds: float) -> None:
        if len(clock.sleeps) == 3:
            raise KeyboardInterrupt

    clock.on_sleep = interrupt_on_third_sleep
    with pytest.raises(KeyboardInterrupt):
        poll(server, clock)
    assert server.paths().count(Paths.DEVICE_TOKEN) == 2


def test_the_token_request_body_follows_rfc_8628() -> None:
    server = FakeAuthServer(token_steps=["token"])
    poll(server, fake_clock())
    request = server.requests[-1]
    assert json.loads(request.content) == {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": "device-code-1",
        "client_id": CLIENT_ID,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"token_type": "Bearer"},
        {"access_token": "has space", "token_type": "Bearer"},
        {"access_token": "tok", "token_type": "Bearer\r\nX: y"},
        {"access_token": "tok", "token_type": "Bearer", "expires_in": "8h"},
    ],
)
def test_a_malformed_token_response_is_refused(body: dict[str, object]) -> None:
    server = FakeAuthServer(token_steps=[httpx.Response(200, json=body)])
    with pytest.raises(UnexpectedResponse):
        poll(server, fake_clock())


def test_token_type_is_kept_exactly_as_sent() -> None:
    body = {"access_token": "tok", "token_type": "bearer"}
    server = FakeAuthServer(token_steps=[httpx.Response(200, json=body)])
    grant = poll(server, fake_clock())
    assert grant.token_type == "bearer"
    assert grant.expires_in is None


# -- sessions ------------------------------------------------------------------------------


def test_get_session_sends_the_bearer_token_and_parses_the_answer() -> None:
    server = FakeAuthServer(valid_tokens={"tok"})
    with server.client() as client:
        info = client.get_session(Credential("tok", "Bearer"))
    assert server.requests[0].headers["Authorization"] == "Bearer tok"
    assert info is not None
    assert (info.user.name, info.user.email) == ("Ada Lovelace", "ada@example.com")
    assert (
        info.expires_at is not None and info.expires_at.isoformat() == "2024-03-15T18:30:00+00:00"
    )


def test_get_session_null_means_not_authenticated() -> None:
    server = FakeAuthServer()
    with server.client() as client:
        assert client.get_session(Credential("unknown")) is None


def test_get_session_401_means_not_authenticated() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(401, json={"error": "x"}))
    with AuthClient(ApiClient(BASE_URL, transport=transport)) as client:
        assert client.get_session(Credential("tok")) is None


def test_server_supplied_names_are_stripped_of_escape_sequences() -> None:
    server = FakeAuthServer(
        valid_tokens={"tok"},
        user={"id": "u1", "name": "Eve\x1b]0;owned\x07\x1b[31m", "email": "eve@x\u202e.com"},
    )
    with server.client() as client:
        info = client.get_session(Credential("tok"))
    assert info is not None
    assert info.user.name == "Eve"
    assert info.user.email == "eve@x.com"


def test_sign_out_reports_whether_the_server_ended_the_session() -> None:
    server = FakeAuthServer(valid_tokens={"tok"})
    with server.client() as client:
        assert client.sign_out(Credential("tok")) == "signed_out"
        assert client.sign_out(Credential("tok")) == "already_invalid"  # "signed_out": false
    assert server.requests[0].headers["Authorization"] == "Bearer tok"
    server.sign_out_response = httpx.Response(401, json={"error": "unauthorized"})
    with server.client() as client:
        assert client.sign_out(Credential("tok")) == "already_invalid"


def test_sign_out_with_an_access_token_says_the_token_is_kept() -> None:
    """The server never ends a personal access token on sign-out ("signed_out": false with
    its kind): that is not an already-ended session."""
    answer = httpx.Response(
        200, json={"success": True, "signed_out": False, "token_kind": "access_token"}
    )
    server = FakeAuthServer(valid_tokens={"bsk_x"}, sign_out_response=answer)
    with server.client() as client:
        assert client.sign_out(Credential("bsk_x")) == "token_kept"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"success": True}),  # better-auth's, or anyone's
        httpx.Response(204),
        httpx.Response(200, text="<html>ok</html>"),
        httpx.Response(404, text="<html>no</html>"),
        httpx.Response(200, json={"success": True, "signed_out": "yes"}),
    ],
)
def test_an_answer_that_is_not_ours_does_not_confirm_the_sign_out(answer: httpx.Response) -> None:
    """Issue 15 item 2: any 2xx counted as "signed out"."""
    server = FakeAuthServer(valid_tokens={"tok"}, sign_out_response=answer)
    with server.client() as client:
        assert client.sign_out(Credential("tok")) == "unconfirmed"


def test_sign_out_uses_a_short_timeout() -> None:
    server = FakeAuthServer()
    with server.client() as client:
        client.sign_out(Credential("tok"))
    timeout = server.requests[0].extensions["timeout"]
    assert max(timeout.values()) <= 3.0


def test_every_request_has_a_timeout() -> None:
    server = FakeAuthServer(valid_tokens={"t"}, token_steps=["token"])
    with server.client() as client:
        client.get_session(Credential("t"))
        client.health()
    poll(server, fake_clock())
    for request in server.requests:
        timeout = request.extensions["timeout"]
        assert all(value is not None and value <= 10 for value in timeout.values())


def test_redirects_are_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "testserver":
            return httpx.Response(302, headers={"Location": "http://elsewhere.example/steal"})
        raise AssertionError("followed a redirect")

    transport = httpx.MockTransport(handler)
    with (
        AuthClient(ApiClient(BASE_URL, transport=transport)) as client,
        pytest.raises(UnexpectedResponse, match="HTTP 302"),
    ):
        client.get_session(Credential("tok"))


# -- health and size caps ------------------------------------------------------------------


def test_health_ok() -> None:
    server = FakeAuthServer()
    with server.client() as client:
        health = client.health()
    assert health.ok
    assert (health.status, health.version, health.database) == ("ok", "9.9.9", "ok")
    assert health.round_trip >= 0


def test_health_503_is_a_report_not_an_exception() -> None:
    answer = {"status": "error", "version": "1.0", "database": "unavailable"}
    server = FakeAuthServer(health=httpx.Response(503, json=answer))
    with server.client() as client:
        health = client.health()
    assert not health.ok
    assert health.database == "unavailable"
    assert health.http_status == 503


def test_health_non_json_is_unexpected() -> None:
    server = FakeAuthServer(health=httpx.Response(200, text="OK"))
    with server.client() as client, pytest.raises(UnexpectedResponse, match="not JSON"):
        client.health()


def test_health_500_is_a_server_error() -> None:
    server = FakeAuthServer(health=httpx.Response(500, text="boom"))
    with server.client() as client, pytest.raises(ServerError):
        client.health()


def test_an_oversized_body_is_refused() -> None:
    huge = b'{"status": "ok", "pad": "' + b"x" * MAX_RESPONSE_BYTES + b'"}'
    # A stream has no Content-Length, so the cap must hold while reading.
    server = FakeAuthServer(health=httpx.Response(200, content=iter([huge[:1000], huge[1000:]])))
    with server.client() as client, pytest.raises(UnexpectedResponse, match="larger"):
        client.health()


def test_an_oversized_declared_length_is_refused_before_reading() -> None:
    def stream():
        raise AssertionError("read the body")
        yield b""  # pragma: no cover

    response = httpx.Response(
        200, headers={"Content-Length": str(10 * MAX_RESPONSE_BYTES)}, content=stream()
    )
    server = FakeAuthServer(health=response)
    with server.client() as client, pytest.raises(UnexpectedResponse, match="too large"):
        client.health()


def test_importing_the_client_does_not_import_httpx_s_own_cli() -> None:
    """httpx would import rich and pygments (~70 ms) for its CLI; whoami must not pay that."""
    import subprocess
    import sys

    code = (
        "import sys, better_skills.client.api;"
        "print(sorted(m for m in ('rich', 'pygments', 'httpx._main') if sys.modules.get(m)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("field_name", "value", "expected"),
    [("expires_in", 1e308, 3600.0), ("interval", 1e308, 60.0), ("interval", 10**400, 60.0)],
    ids=["expires_in-1e308", "interval-1e308", "interval-10**400"],
)
def test_huge_numbers_are_cut_to_sane_bounds(
    field_name: str, value: float, expected: float
) -> None:
    """Issue 16 item 11: 1e308 raised OverflowError in the time arithmetic."""
    answer = {
        "device_code": "d",
        "user_code": "BCDFGHJK",
        "verification_uri": f"{BASE_URL}/device",
        "expires_in": 1800,
        "interval": 5,
        field_name: value,
    }
    server = FakeAuthServer(device_code_response=httpx.Response(200, json=answer))
    with server.client() as client:
        assert getattr(client.request_device_code(), field_name) == expected


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_numbers_are_refused(value: float) -> None:
    answer = {
        "device_code": "d",
        "user_code": "BCDFGHJK",
        "verification_uri": f"{BASE_URL}/device",
        "expires_in": value,
    }
    server = FakeAuthServer(
        device_code_response=httpx.Response(200, content=json.dumps(answer).encode())
    )
    with server.client() as client, pytest.raises(UnexpectedResponse, match="expires_in"):
        client.request_device_code()
