"""HTTP plumbing shared by the routers: body parsing, client address, errors, cookies, CSRF.

Everything here turns bad input into an RFC 6749 shaped 4xx, never a 500.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from better_skills.protocol import errors
from better_skills.server import fields
from better_skills.server.settings import Settings

#: Request bodies larger than this are refused with 413.
MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SESSION_COOKIE = "better_skills_session"
SECURE_SESSION_COOKIE = "__Host-better_skills_session"


def session_cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only, Path=/.
    return SECURE_SESSION_COOKIE if settings.secure_cookies else SESSION_COOKIE


async def read_body(request: Request) -> bytes:
    """The body, refused with 413 beyond :data:`MAX_BODY` before it is all read."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise errors.InvalidRequest("Invalid Content-Length.")
        if int(declared) > MAX_BODY:
            raise errors.PayloadTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise errors.PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def parse_form(body: bytes) -> dict[str, str]:
    """``application/x-www-form-urlencoded``: strict, UTF-8, every field at most once."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            errors="strict",
            max_num_fields=64,
        )
    except (UnicodeDecodeError, ValueError):
        raise errors.InvalidRequest("The form body is not valid URL-encoded UTF-8.") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise errors.InvalidRequest(f"The field {key[:64]!r} is repeated.")
        params[key] = value
    return params


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise errors.InvalidRequest("The JSON body must be an object.")
    return value


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def read_params(
    request: Request,
    *,
    required: Iterable[str] = (),
    optional: Iterable[str] = (),
    flags: Iterable[str] = (),
    ignored: Iterable[str] = (),
) -> dict[str, Any]:
    """Fields of a JSON or form body, type-checked: strings, plus booleans for ``flags``.

    Unknown fields are refused (a typo should not pass silently); ``ignored`` names fields that
    known clients send and we do not use.
    """
    body = await read_body(request)
    media = _media_type(request)
    if not body.strip():
        params: dict[str, Any] = {}
    elif media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        params = parse_json(body)
    elif media == "application/x-www-form-urlencoded":
        params = parse_form(body)
        for flag in flags:
            if flag in params:
                params[flag] = params[flag].lower() in ("1", "true", "on", "yes")
    else:
        raise errors.UnsupportedMediaType()
    required, optional, flags, ignored = set(required), set(optional), set(flags), set(ignored)
    unknown = set(params) - required - optional - flags - ignored
    if unknown:
        raise errors.InvalidRequest(f"Unknown field {sorted(unknown)[0][:64]!r}.")
    for name, value in params.items():
        if name in flags:
            if not isinstance(value, bool):
                raise errors.InvalidRequest(f"{name} must be true or false.")
        elif name not in ignored and not isinstance(value, str):
            raise errors.InvalidRequest(f"{name} must be a string.")
        elif isinstance(value, str) and "\x00" in value:
            raise errors.InvalidRequest(f"{name} must not contain NUL characters.")
        elif isinstance(value, str) and not _is_utf8(value):
            # A JSON escape of a lone surrogate ("\ud800") decodes to a str that cannot be
            # encoded again: hashing or storing it would fail with a 500.
            raise errors.InvalidRequest(f"{name} must be valid Unicode text.")
    for name in required:
        if not params.get(name):
            raise errors.InvalidRequest(f"{name} is required.")
    return {k: v for k, v in params.items() if k not in ignored}


def parse_hop(hop: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """One ``X-Forwarded-For`` entry as an address, or None when it names none.

    Proxies write more than bare addresses: ``1.2.3.4:5678`` and ``[2001:db8::5]:443`` (with
    the port), quoted values, zone ids (``fe80::1%eth0``), IPv4-mapped IPv6; and ``unknown``
    or an obfuscated name when they cannot tell.
    """
    hop = hop.strip().strip('"').strip()
    if hop.startswith("["):
        host, bracket, rest = hop[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        hop = host
    elif hop.count(":") == 1:  # IPv4 with a port; bare IPv6 has at least two colons
        host, _, port = hop.partition(":")
        if not port.isdigit():
            return None
        hop = host
    try:
        return ipaddress.ip_address(hop.split("%", 1)[0])
    except ValueError:
        return None


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, settings: Settings) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)  # a dual-stack socket's ::ffff:10.0.0.5
    return any(a in net for a in (address, mapped) if a for net in settings.trusted_proxies)


def client_ip(request: Request, settings: Settings) -> str | None:
    """The caller's address: the socket peer, or ``X-Forwarded-For`` behind a trusted proxy.

    Every ``X-Forwarded-For`` line counts, joined in order (a proxy such as HAProxy appends
    its own line after the client's, and reading only the first line believed the client).
    The chain is walked from the right, skipping trusted proxies, so a client cannot choose
    its own address by sending the header itself. A hop that a trusted proxy wrote but that
    names no address (``unknown``) means the proxy could not tell who the client is: the
    answer is None ("unknown"), never the proxy's own address, so clients the proxy does
    name keep budgets of their own.
    """
    peer = request.client.host if request.client else None
    if not settings.trusted_proxies or peer is None:
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    # Empty list elements ("a,,b", an empty line) are ignored, as RFC 9110 section 5.6.1 says.
    chain = [hop for hop in (part.strip() for part in forwarded.split(",")) if hop]
    address = parse_hop(peer)
    if address is None:
        return peer
    for hop in reversed(chain):
        if not _is_trusted(address, settings):
            return str(address)
        address = parse_hop(hop)
        if address is None:
            return None
    return str(address)  # the leftmost hop, whether a proxy or not: nobody wrote further left


def user_agent(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[: fields.USER_AGENT] if agent else None


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (scheme case-insensitive)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def origin_is_trusted(request: Request, settings: Settings) -> bool:
    """Browser POSTs must come from our own pages: ``Origin``, else ``Referer``, must match."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        referer = request.headers.get("referer")
        if not referer:
            return False
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin.rstrip("/") in settings.trusted_origins


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Set the browser session cookie: HttpOnly, SameSite=Lax, as long as the session lives."""
    settings: Settings = request.app.state.services.settings
    response.set_cookie(
        session_cookie_name(settings),
        token,
        max_age=int(settings.session_ttl),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def delete_session_cookie(response: Response, settings: Settings) -> None:
    """Expire the session cookie; Secure must be repeated or browsers keep a __Host- cookie."""
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def error_response(error: errors.OAuthError) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=error.status_code, headers=error.headers())


def json_no_store(content: Any, status_code: int = 200) -> Response:
    return JSONResponse(content, status_code=status_code, headers=NO_STORE)
