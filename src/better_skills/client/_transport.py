"""The HTTP transport every API client of the CLI shares: :class:`ApiClient`.

``AuthClient`` (``client.api``) and the vault client are thin facades over it. It owns what must
be right once for every request:

- a **total deadline** per request (connect, send, headers and body together), so a server that
  trickles one byte every few seconds cannot hold a command past its timeout;
- a **size cap** on every answer (:data:`MAX_RESPONSE_BYTES` unless a call asks for more);
- **TLS**: verified for https; plain http makes no TLS connection at all;
- **no redirects**, so a token never travels to a URL the user did not configure;
- the **credential held once**, sent only when a call asks for it, and only to the server that
  issued it (:class:`CredentialServerMismatch` otherwise);
- **error mapping**: network failures are :class:`ServerUnreachable`, 5xx :class:`ServerError`,
  a refused credential :class:`NotAuthenticated`, the error bodies of the contract
  (``{"error", "error_description", "details"}``) the classes of ``protocol.errors``.

The network is ``http.client`` (``_http11``), not httpx: importing httpx cost more than the rest
of a ``sync`` with nothing to do. Tests inject an httpx transport (``httpx.MockTransport``) to
play the server; only then is httpx imported.

About 440 lines, kept in one module on purpose: the list above is the life of one request,
and each rule is easiest to check when every request visibly takes the same path.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast
from urllib.parse import urlencode, urlsplit

from better_skills import __version__
from better_skills.client._deadline import Deadline
from better_skills.client._http11 import ConnectTimeout, Http11, Http11Error, read_capped
from better_skills.client.clock import Clock, SystemClock
from better_skills.client.config import same_server
from better_skills.client.credentials import Credential, refused
from better_skills.client.errors import (
    CredentialServerMismatch,
    NotAuthenticated,
    ServerError,
    ServerUnreachable,
    UnexpectedResponse,
)
from better_skills.client.text import clean
from better_skills.protocol.errors import OAuthError, TooManyRequests, error_class_for

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_RESPONSE_BYTES",
    "ApiClient",
    "ApiResponse",
    "Timeout",
    "wrong_server_hints",
]

#: Cap on an answer unless a call asks for more: the auth API's largest is well under 2 KiB.
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Timeout:
    """``total`` bounds the whole request; connecting gets less, so a dead host fails fast."""

    total: float
    connect: float

    def as_httpx(self) -> httpx.Timeout:
        from better_skills.client._httpx import httpx

        return httpx.Timeout(self.total, connect=min(self.connect, self.total))


DEFAULT_TIMEOUT = Timeout(total=10.0, connect=5.0)


@dataclass(frozen=True)
class ApiResponse:
    """A complete answer: status, headers and the whole (capped) body."""

    status_code: int
    #: Case-insensitive (``headers.get("etag")``), as both ``http.client`` and httpx give them.
    headers: Mapping[str, str]
    body: bytes
    path: str
    #: The credential the request carried, if any (a 401 then means it was refused).
    credential: Credential | None = None

    def error_fields(self) -> dict[str, Any]:
        """The body's JSON object (an error's ``error``, ``error_description``...); empty when
        the body is empty, not JSON or not an object."""
        try:
            data = json.loads(self.body) if self.body else None
        except ValueError:
            data = None
        return data if isinstance(data, dict) else {}


def wrong_server_hints(base_url: str) -> tuple[str, ...]:
    """What to say when an answer shows that ``base_url`` is not a better-skills server."""
    hints = [f"Does {base_url} point at a better-skills server? Check SERVER_URL or --server."]
    parts = urlsplit(base_url)
    if parts.path not in ("", "/"):
        hints.append(
            f"A server URL has no path: try {parts.scheme}://{parts.netloc} (without {parts.path})."
        )
    return tuple(hints)


def default_user_agent() -> str:
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"better-skills-cli/{__version__} ({sys.platform}; Python {python})"


class ApiClient:
    """HTTP to one server. Use as a context manager, or call :meth:`close`.

    ``transport`` replaces the network (tests pass ``httpx.MockTransport``; without one,
    ``http.client`` carries the requests); ``credential`` is the token that calls with
    ``auth=True`` carry.
    """

    def __init__(
        self,
        base_url: str,
        *,
        credential: Credential | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        user_agent: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.timeout = timeout
        if credential is not None:
            self._check_server(credential)
        self.credential = credential
        #: Called once with a credential that names no server, when this server accepts it.
        self.on_accepted: Callable[[Credential], None] | None = None
        self._deadline = Deadline()
        self._headers = {
            "User-Agent": user_agent or default_user_agent(),
            "Accept": "application/json",
        }
        self._net: Http11 | None = None
        self._http: httpx.Client | None = None
        if transport is None:
            self._net = Http11(self.base_url, self._deadline)
        else:
            from better_skills.client._httpx import httpx

            self._http = httpx.Client(
                transport=transport,
                timeout=timeout.as_httpx(),
                follow_redirects=False,
                headers=self._headers,
            )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._net is not None:
            self._net.close()
        if self._http is not None:
            self._http.close()

    # -- requests --------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool | Credential = False,
        timeout: Timeout | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> ApiResponse:
        """One request, read to the end within ``timeout.total``.

        ``auth=True`` sends the client's credential (:class:`NotAuthenticated` without one);
        a :class:`Credential` sends that one. Either must belong to this server.
        """
        credential = self._credential_for(auth)
        all_headers = dict(headers or {})
        if credential is not None:
            all_headers["Authorization"] = credential.authorization
        limit = timeout or self.timeout
        self._deadline.at = time.monotonic() + limit.total
        try:
            if self._net is None:
                return self._send_httpx(
                    method, path, json_body, form, params, all_headers, limit, max_bytes, credential
                )
            return self._send(
                method, path, json_body, form, params, all_headers, limit, max_bytes, credential
            )
        finally:
            self._deadline.at = None

    def _send(
        self,
        method: str,
        path: str,
        json_body: Any,
        form: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        headers: dict[str, str],
        limit: Timeout,
        max_bytes: int,
        credential: Credential | None,
    ) -> ApiResponse:
        """Over ``http.client``; bodies encoded as httpx encodes them."""
        assert self._net is not None
        body = None
        if json_body is not None:
            text = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            body = text.encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(dict(form)).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif method in ("POST", "PUT", "PATCH"):
            body = b""
        target = path + ("?" + urlencode(dict(params)) if params else "")
        try:
            response = self._net.request(
                method,
                target,
                body=body,
                headers={**self._headers, **headers},
                connect_timeout=min(limit.connect, limit.total),
            )
            try:
                data = read_capped(response, max_bytes, UnexpectedResponse)
            except BaseException:
                self._net.close()  # the rest of the answer is not wanted: a new connection
                raise
            finally:
                response.close()
        except TimeoutError as exc:
            reason = (
                "connection timed out"
                if isinstance(exc, ConnectTimeout)
                else f"no answer in time: gave up after {limit.total:g} s"
            )
            raise ServerUnreachable(self.base_url, reason) from None
        except (OSError, Http11Error) as exc:
            raise ServerUnreachable(self.base_url, _describe_network_error(exc)) from None
        # An HTTPMessage: case-insensitive get, items and [] like the Mapping the type names.
        answer_headers = cast("Mapping[str, str]", response.headers)
        return ApiResponse(response.status, answer_headers, data, path, credential)

    def _send_httpx(
        self,
        method: str,
        path: str,
        json_body: Any,
        form: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        headers: dict[str, str],
        limit: Timeout,
        max_bytes: int,
        credential: Credential | None,
    ) -> ApiResponse:
        """Through the injected httpx transport (tests)."""
        from better_skills.client._httpx import httpx

        assert self._http is not None
        try:
            request = self._http.build_request(
                method,
                self.base_url + path,
                json=json_body,
                data=dict(form) if form is not None else None,
                params=params,
                headers=headers,
                timeout=limit.as_httpx(),
            )
            response = self._http.send(request, stream=True)
            try:
                body = _read_capped(response, max_bytes, self._deadline)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            reason = (
                "connection timed out"
                if isinstance(exc, httpx.ConnectTimeout)
                else f"no answer in time: gave up after {limit.total:g} s"
            )
            raise ServerUnreachable(self.base_url, reason) from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.base_url, _describe_network_error(exc)) from None
        return ApiResponse(response.status_code, response.headers, body, path, credential)

    def request_json(
        self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **options: Any
    ) -> Any:
        """:meth:`send`, then the JSON body of an expected status; any other status raises."""
        response = self.send(method, path, **options)
        if response.status_code not in expect:
            self.raise_for_error(response)
        data = self.json(response)
        if response.credential is not None:
            self.accepted(response.credential)
        return data

    # -- answers ---------------------------------------------------------------------------

    def json(self, response: ApiResponse) -> Any:
        try:
            return json.loads(response.body)
        except ValueError:
            raise UnexpectedResponse(
                f"The server at {self.base_url} answered {response.path} with something that is "
                f"not JSON (HTTP {response.status_code}).",
                hints=wrong_server_hints(self.base_url),
            ) from None

    def json_object(self, response: ApiResponse) -> dict[str, Any]:
        data = self.json(response)
        if not isinstance(data, dict):
            raise UnexpectedResponse(
                f"The server at {self.base_url} answered {response.path} with an unexpected "
                "JSON value."
            )
        return data

    def raise_for_error(self, response: ApiResponse) -> NoReturn:
        """Turn a non-success answer into the right exception (always raises)."""
        status = response.status_code
        fields = response.error_fields()
        code = fields.get("error")
        description = fields.get("error_description")
        description = clean(description, max_length=300) if isinstance(description, str) else None
        if status == 429:
            raise TooManyRequests(description, retry_after=_retry_after(response.headers))
        if status >= 500:
            # The server's description is a sentence already: no second full stop.
            detail = f": {description.rstrip('.')}" if description else ""
            raise ServerError(
                f"The server at {self.base_url} failed with HTTP {status}{detail}.",
                status_code=status,
            )
        if status == 401 and response.credential is not None:
            raise refused(response.credential, self.base_url)
        if isinstance(code, str) and code:
            error_class = error_class_for(code)
            error = error_class(description, status_code=status)
            if error_class is OAuthError:
                error.error = clean(code, max_length=64)  # type: ignore[misc]
            error.details = _details(fields.get("details"))
            raise error
        raise UnexpectedResponse(
            f"The server at {self.base_url} answered HTTP {status} to {response.path}.",
            hints=wrong_server_hints(self.base_url),
        )

    # -- credentials -----------------------------------------------------------------------

    def _credential_for(self, auth: bool | Credential) -> Credential | None:
        if auth is False:
            return None
        if auth is True:
            if self.credential is None:
                raise NotAuthenticated("not logged in")
            return self.credential
        self._check_server(auth)
        return auth

    def _check_server(self, credential: Credential) -> None:
        """A token goes only to the server that issued it (docs/security.md, token binding)."""
        if credential.server is not None and not same_server(credential.server, self.base_url):
            raise CredentialServerMismatch(credential.server, self.base_url)

    def accepted(self, credential: Credential) -> None:
        """Facades call this when the server has accepted ``credential`` (a 2xx that proves it).

        A session file of the original CLI names no server; the first server that accepts its
        token becomes its server (``on_accepted`` records that).
        """
        if credential.server is None and self.on_accepted is not None:
            hook, self.on_accepted = self.on_accepted, None
            hook(credential)


# -- helpers -----------------------------------------------------------------------------------


def _read_capped(response: httpx.Response, max_bytes: int, deadline: Deadline) -> bytes:
    from better_skills.client._httpx import httpx

    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise UnexpectedResponse(f"The server's answer is too large ({declared} bytes).")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise UnexpectedResponse(f"The server's answer is larger than {max_bytes} bytes.")
        chunks.append(chunk)
        # The socket reads are bounded already; this also covers transports without sockets.
        deadline.cap(None, httpx.ReadTimeout)
    return b"".join(chunks)


def _retry_after(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None


def _details(value: object) -> list[dict[str, str]]:
    """The ``details`` list of an error body, cleaned for display."""
    if not isinstance(value, list):
        return []
    return [
        {
            "path": clean(item.get("path", ""), max_length=200),
            "message": clean(item.get("message", ""), max_length=300),
        }
        for item in value[:50]
        if isinstance(item, dict)
    ]


def _describe_network_error(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    # "[Errno 111] Connection refused" -> "connection refused"
    if text.startswith("[Errno") and "] " in text:
        text = text.split("] ", 1)[1]
    text = clean(text, max_length=200)
    return text[:1].lower() + text[1:] if text else "network error"
