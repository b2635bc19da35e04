"""Checks of what a server answers in the device flow: tokens, user codes, numbers, URLs, times.

A hostile or broken server must not crash the CLI or put anything unsafe on the screen or in a
browser; each check either returns a safe value or raises :class:`UnexpectedResponse`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from better_skills.client.errors import UnexpectedResponse
from better_skills.client.text import clean
from better_skills.protocol.device_flow import normalize_user_code
from better_skills.protocol.wire import is_header_safe, parse_timestamp

__all__ = ["bounded_number", "required_str", "safe_uri", "same_host", "timestamp", "user_code"]


def required_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or not is_header_safe(value):
        raise UnexpectedResponse(f"The server's answer has no valid {key}.")
    return value


def user_code(data: dict[str, Any]) -> str:
    """The user code, only if it looks like one: 4 to 16 letters and digits (dashes aside)."""
    value = data.get("user_code")
    text = clean(value, max_length=64) if isinstance(value, str) else ""
    code = normalize_user_code(text)
    if not (4 <= len(code) <= 16 and code.isascii() and code.isalnum()):
        raise UnexpectedResponse("The server's answer has no valid user_code.")
    return code


def bounded_number(
    data: dict[str, Any], key: str, *, required: bool = False, maximum: float
) -> float | None:
    """A positive, finite JSON number, cut to ``maximum``; the original CLI busy-loops without
    one, so we insist. ``Infinity`` and ``1e308`` crashed time arithmetic before the cap."""
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise UnexpectedResponse(f"The server's answer has no valid {key} (a positive number).")
    if isinstance(value, float) and not math.isfinite(value):
        raise UnexpectedResponse(f"The server's answer has no valid {key} (a finite number).")
    return float(min(value, maximum))  # min before float(): a 400-digit int would overflow


def safe_uri(value: object, key: str) -> str:
    """Only http(s) URLs without user info are shown or opened.

    A ``file:`` or ``javascript:`` URI is refused, and so is ``http://host@evil.example/``,
    which reads as ``host`` but goes to ``evil.example``.
    """
    # clean() changing the value means control, escape or bidi characters: never display those.
    if isinstance(value, str) and value and " " not in value and clean(value) == value:
        try:
            parts = urlsplit(value)
            _ = parts.port
        except ValueError:
            parts = None
        if (
            parts is not None
            and parts.scheme.lower() in ("http", "https")
            and parts.hostname
            and "@" not in parts.netloc
        ):
            return value
    raise UnexpectedResponse(
        f"The server sent a {key} that is not a plain http(s) URL; refusing to use it."
    )


_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def same_host(url: str, server: str) -> bool:
    """Whether ``url`` is on the server's host; ``localhost`` and 127.0.0.1 count as one."""
    a, b = (urlsplit(u).hostname or "" for u in (url, server))
    return a == b or (a in _LOOPBACK and b in _LOOPBACK)


def timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
