"""The better-skills auth API: device flow (RFC 8628), sessions, health.

Protocol only, like huggingface_hub's device-flow module: no printing and no persistence. The
poll loop reports progress through a callback and time comes from the client's :class:`Clock`.
HTTP (deadlines, size caps, TLS, error mapping, the credential) is :class:`ApiClient`'s, in
``client._transport``; :class:`AuthClient` is a thin facade over one.

About 430 lines: the device flow's typed answers and ``poll_for_token``'s state machine
(RFC 8628 §3.5: pending, slow_down, back-off on failures, expiry) with the docstrings that
explain it; the endpoints themselves are short.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NoReturn

from better_skills.client._answers import (
    bounded_number,
    required_str,
    safe_uri,
    same_host,
    timestamp,
    user_code,
)
from better_skills.client._transport import (
    DEFAULT_TIMEOUT,
    MAX_RESPONSE_BYTES,
    ApiClient,
    ApiResponse,
    Timeout,
    wrong_server_hints,
)
from better_skills.client.clock import Clock, SystemClock
from better_skills.client.credentials import Credential
from better_skills.client.errors import (
    ServerError,
    ServerUnreachable,
    UnexpectedResponse,
)
from better_skills.client.text import clean
from better_skills.protocol.device_flow import (
    CLIENT_ID,
    DEFAULT_SCOPE,
    DEVICE_CODE_GRANT_TYPE,
    HOSTNAME_FIELD,
    SLOW_DOWN_INCREMENT,
    TOKEN_TYPE,
    Paths,
    format_user_code,
)
from better_skills.protocol.errors import (
    AuthorizationPending,
    ExpiredToken,
    InvalidRequest,
    SlowDown,
    TooManyRequests,
)
from better_skills.protocol.wire import is_header_safe, is_token_type

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_BACKOFF",
    "MAX_RESPONSE_BYTES",
    "MIN_POLL_INTERVAL",
    "SIGN_OUT_TIMEOUT",
    "ApiClient",
    "AuthClient",
    "Clock",
    "Credential",
    "DeviceAuthorization",
    "Health",
    "PollProgress",
    "SessionInfo",
    "SignOutResult",
    "SystemClock",
    "TokenGrant",
    "User",
]

#: Logout must work offline, so its courtesy request to the server gives up quickly.
SIGN_OUT_TIMEOUT = Timeout(total=3.0, connect=2.0)
HEALTH_TIMEOUT = Timeout(total=5.0, connect=3.0)
#: RFC 8628 §3.2: a client uses 5 s when the server names no interval; we never go under 1 s.
DEFAULT_POLL_INTERVAL = 5.0
MIN_POLL_INTERVAL = 1.0
#: Backoff after network errors doubles up to this (still never past the code's expiry).
MAX_BACKOFF = 60.0
#: Bounds on what a server may say (RFC 8628 expects minutes, not centuries): a larger
#: ``expires_in`` or ``interval`` is cut to these, a non-finite one is refused.
MAX_CODE_LIFETIME = 3600.0
MAX_POLL_INTERVAL = 60.0
MAX_TOKEN_LIFETIME = 366 * 86400.0

PollState = Literal["waiting", "slow_down", "retrying"]
SignOutResult = Literal["signed_out", "already_invalid", "token_kept", "unconfirmed"]


@dataclass(frozen=True)
class DeviceAuthorization:
    """RFC 8628 §3.2 device authorization response."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float
    #: The verification page is on the server's own host (loopback names count as one).
    same_host: bool = True

    @property
    def display_code(self) -> str:
        """The user code as ``XXXX-XXXX``."""
        return format_user_code(self.user_code)

    @property
    def browser_url(self) -> str:
        """The URL to open: the complete one (code filled in) when the server sent it."""
        return self.verification_uri_complete or self.verification_uri


@dataclass(frozen=True)
class TokenGrant:
    """RFC 8628 §3.5 / RFC 6749 §5.1 access token response."""

    access_token: str
    token_type: str
    expires_in: float | None
    scope: str | None


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class SessionInfo:
    """What ``get-session`` says about a token: who, and the session's lifetime."""

    user: User
    created_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class Health:
    """The answer of ``/api/health`` and how long the round trip took (seconds)."""

    status: str
    version: str | None
    database: str | None
    http_status: int
    round_trip: float

    @property
    def ok(self) -> bool:
        return self.http_status == 200 and self.status == "ok"


@dataclass(frozen=True)
class PollProgress:
    """A progress report of the poll loop, sent before each wait.

    ``deadline`` is on the client's monotonic clock, so a UI can count down on its own.
    """

    state: PollState
    interval: float
    deadline: float
    next_poll_in: float
    attempts: int
    error: str | None = None


class AuthClient:
    """The auth API of one server, over an :class:`ApiClient` (closed with this client)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    @property
    def base_url(self) -> str:
        return self.api.base_url

    @property
    def clock(self) -> Clock:
        return self.api.clock

    def __enter__(self) -> AuthClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.api.close()

    # -- device flow -----------------------------------------------------------------------

    def request_device_code(
        self, *, client_id: str = CLIENT_ID, scope: str = DEFAULT_SCOPE, hostname: str | None = None
    ) -> DeviceAuthorization:
        """``POST /api/auth/device/code`` (RFC 8628 §3.1), with this machine's ``hostname``.

        A server that does not know the ``hostname`` field (it refuses unknown fields with
        ``invalid_request``) is asked again without it.
        """
        body = {"client_id": client_id, "scope": scope}
        if hostname:
            body[HOSTNAME_FIELD] = hostname
        response = self.api.send("POST", Paths.DEVICE_CODE, json_body=body)
        if response.status_code == 400 and hostname:
            try:
                self._fail(response)
            except InvalidRequest:
                return self.request_device_code(client_id=client_id, scope=scope)
        if response.status_code != 200:
            self._fail(response)
        data = self.api.json_object(response)
        complete = data.get("verification_uri_complete")
        uri = safe_uri(data.get("verification_uri"), "verification_uri")
        complete_uri = None if complete is None else safe_uri(complete, "verification_uri_complete")
        return DeviceAuthorization(
            device_code=required_str(data, "device_code"),
            user_code=user_code(data),
            verification_uri=uri,
            verification_uri_complete=complete_uri,
            expires_in=bounded_number(data, "expires_in", required=True, maximum=MAX_CODE_LIFETIME)
            or 0.0,
            interval=bounded_number(data, "interval", maximum=MAX_POLL_INTERVAL)
            or DEFAULT_POLL_INTERVAL,
            same_host=all(
                same_host(url, self.base_url) for url in (uri, complete_uri) if url is not None
            ),
        )

    def poll_for_token(
        self,
        authorization: DeviceAuthorization,
        *,
        client_id: str = CLIENT_ID,
        on_progress: Callable[[PollProgress], None] | None = None,
    ) -> TokenGrant:
        """Poll ``/api/auth/device/token`` until the user approves (RFC 8628 §3.4, §3.5).

        Waits the server's interval (at least 1 s) before each request and 5 s more for every
        later request after a ``slow_down``. Network errors, 5xx and 429 answers are transient:
        the wait doubles (up to :data:`MAX_BACKOFF`) and polling goes on. The deadline is
        ``expires_in`` on the monotonic clock.

        Raises ``AccessDenied``, ``ExpiredToken`` (from the server, or when the deadline
        passes), another :class:`OAuthError`, or :class:`UnexpectedResponse`.
        """
        clock = self.clock
        deadline = clock.monotonic() + authorization.expires_in
        interval = max(authorization.interval, MIN_POLL_INTERVAL)
        wait = interval
        state: PollState = "waiting"
        error: str | None = None
        failures = 0
        attempts = 0
        while True:
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                raise ExpiredToken("The login code expired before it was approved.")
            if on_progress is not None:
                on_progress(
                    PollProgress(state, interval, deadline, min(wait, remaining), attempts, error)
                )
            if wait >= remaining:
                # No poll can be answered before the code expires; wait out the countdown.
                clock.sleep(remaining)
                raise ExpiredToken("The login code expired before it was approved.")
            clock.sleep(wait)
            attempts += 1
            try:
                return self._redeem(authorization.device_code, client_id)
            except AuthorizationPending:
                state, error, failures, wait = "waiting", None, 0, interval
            except SlowDown:
                interval += SLOW_DOWN_INCREMENT  # for all later polls (RFC 8628 §3.5)
                state, error, failures, wait = "slow_down", None, 0, interval
            except TooManyRequests as exc:
                failures += 1
                wait = max(_backoff(interval, failures), float(exc.retry_after or 0))
                state, error = "retrying", "the server is rate limiting requests"
            except ServerUnreachable as exc:
                failures += 1
                wait = _backoff(interval, failures)
                state, error = "retrying", exc.reason
            except ServerError as exc:
                failures += 1
                wait = _backoff(interval, failures)
                state, error = "retrying", f"server error, HTTP {exc.status_code}"

    def _redeem(self, device_code: str, client_id: str) -> TokenGrant:
        response = self.api.send(
            "POST",
            Paths.DEVICE_TOKEN,
            json_body={
                "grant_type": DEVICE_CODE_GRANT_TYPE,
                "device_code": device_code,
                "client_id": client_id,
            },
        )
        if response.status_code != 200:
            self._fail(response)
        data = self.api.json_object(response)
        token = data.get("access_token")
        if not isinstance(token, str) or not is_header_safe(token):
            raise UnexpectedResponse("The server sent a token response without a usable token.")
        token_type = data.get("token_type", TOKEN_TYPE)
        if not isinstance(token_type, str) or not is_token_type(token_type):
            raise UnexpectedResponse("The server sent a malformed token_type.")
        scope = data.get("scope")
        return TokenGrant(
            access_token=token,
            token_type=token_type,
            expires_in=bounded_number(data, "expires_in", maximum=MAX_TOKEN_LIFETIME),
            scope=clean(scope) if isinstance(scope, str) else None,
        )

    # -- sessions --------------------------------------------------------------------------

    def get_session(self, credential: Credential | None = None) -> SessionInfo | None:
        """``GET /api/auth/get-session`` with ``credential`` (default: the client's own).

        ``None`` when the server does not accept the token.
        """
        credential = credential or self.api.credential
        response = self.api.send("GET", Paths.GET_SESSION, auth=credential or True)
        if response.status_code in (401, 403):
            return None
        if response.status_code != 200:
            self._fail(response)
        data = self.api.json(response)
        if data is None:  # better-auth's answer for "no valid session"
            return None
        if not isinstance(data, dict):
            raise UnexpectedResponse("The server sent a malformed session.")
        user = data.get("user")
        session = data.get("session")
        if not isinstance(user, dict) or not isinstance(session, dict):
            raise UnexpectedResponse("The server sent a session without a user.")
        if credential is not None:
            self.api.accepted(credential)
        return SessionInfo(
            user=User(
                id=clean(user.get("id", ""), max_length=100),
                name=clean(user.get("name") or "", max_length=200),
                email=clean(user.get("email") or "", max_length=320),
            ),
            created_at=timestamp(session.get("createdAt")),
            expires_at=timestamp(session.get("expiresAt")),
        )

    def sign_out(self, credential: Credential | None = None) -> SignOutResult:
        """``POST /api/auth/sign-out`` with ``credential`` (default: the client's own).

        Uses a short timeout. ``signed_out``: the server says it ended the session;
        ``already_invalid``: it says the session was already gone (``"signed_out": false``, or
        a 401/403 error of ours); ``token_kept``: the credential is a personal access token,
        which sign-out never ends (it is revoked on the account page); ``unconfirmed``: any
        other answer, which is not a better-skills server's (``{"success": true}`` alone
        included). Raises :class:`ServerUnreachable` when offline and :class:`ServerError` on
        a 5xx.
        """
        response = self.api.send(
            "POST", Paths.SIGN_OUT, auth=credential or True, timeout=SIGN_OUT_TIMEOUT
        )
        status = response.status_code
        if status >= 500:
            self._fail(response)
        try:
            data = json.loads(response.body)
        except ValueError:
            return "unconfirmed"
        if not isinstance(data, dict):
            return "unconfirmed"
        if 200 <= status < 300:
            ended = data.get("signed_out")
            if ended is True:
                return "signed_out"
            if ended is False and data.get("token_kind") == "access_token":
                return "token_kept"
            return "already_invalid" if ended is False else "unconfirmed"
        if status in (401, 403) and isinstance(data.get("error"), str):
            return "already_invalid"
        return "unconfirmed"

    def _fail(self, response: ApiResponse) -> NoReturn:
        """Every auth endpoint exists on a better-skills server: a 404 or 405 means this URL
        is not one (or has a path it should not have)."""
        if response.status_code in (404, 405):
            raise UnexpectedResponse(
                f"The server at {self.base_url} has no {response.path} "
                f"(HTTP {response.status_code}).",
                hints=wrong_server_hints(self.base_url),
            )
        self.api.raise_for_error(response)

    # -- health ----------------------------------------------------------------------------

    def health(self) -> Health:
        """``GET /api/health``; a 503 answer is a :class:`Health` that is not ``ok``."""
        started = time.perf_counter()
        response = self.api.send("GET", Paths.HEALTH, timeout=HEALTH_TIMEOUT)
        round_trip = time.perf_counter() - started
        if response.status_code not in (200, 503):
            self._fail(response)
        data = self.api.json_object(response)
        default = "ok" if response.status_code == 200 else "unavailable"
        version = data.get("version")
        database = data.get("database")
        return Health(
            status=clean(data.get("status") or default, max_length=64),
            version=None if version is None else clean(version, max_length=64),
            database=None if database is None else clean(database, max_length=64),
            http_status=response.status_code,
            round_trip=round_trip,
        )


def _backoff(interval: float, failures: int) -> float:
    """Doubling wait after consecutive failures (RFC 8628 §3.5), capped."""
    return float(min(interval * 2.0**failures, max(MAX_BACKOFF, interval)))
