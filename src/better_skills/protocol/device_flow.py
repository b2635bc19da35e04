"""Paths, names and constants of the device authorization flow (RFC 8628, better-auth 1.7).

Both the CLI and the server import these, so the two can never disagree about the wire.
"""

from __future__ import annotations

from typing import Final

#: The grant type of RFC 8628 §3.4.
DEVICE_CODE_GRANT_TYPE: Final = "urn:ietf:params:oauth:grant-type:device_code"

#: The client id of our CLI (and of the original TypeScript CLI).
CLIENT_ID: Final = "better-skills-cli"

#: The scope the CLI asks for.
DEFAULT_SCOPE: Final = "openid profile email"

#: Where all better-auth compatible endpoints live.
API_BASE: Final = "/api/auth"

#: Token type in token responses and the session file.
TOKEN_TYPE: Final = "Bearer"

#: RFC 8628 §3.5: a client adds this many seconds to its interval after each ``slow_down``.
SLOW_DOWN_INCREMENT: Final = 5

#: The alphabet of user codes: RFC 8628 §6.1's 20 consonants, no vowels and no look-alikes.
USER_CODE_ALPHABET: Final = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH: Final = 8
#: The longest typed user code looked at (``BCDF-GHJK`` is 9 characters): longer is no code.
MAX_USER_CODE_INPUT: Final = 32

#: Our extra, optional field of the device authorization request: the name of the computer
#: asking, shown on the approval page and the account page (better-auth has no such field).
HOSTNAME_FIELD: Final = "hostname"
#: The longest computer name sent or stored (a DNS name's limit).
MAX_HOSTNAME: Final = 253


class Paths:
    """HTTP paths of the contract."""

    DEVICE_CODE: Final = f"{API_BASE}/device/code"
    DEVICE_TOKEN: Final = f"{API_BASE}/device/token"
    DEVICE_VERIFY: Final = f"{API_BASE}/device"
    DEVICE_APPROVE: Final = f"{API_BASE}/device/approve"
    DEVICE_DENY: Final = f"{API_BASE}/device/deny"
    GET_SESSION: Final = f"{API_BASE}/get-session"
    SIGN_OUT: Final = f"{API_BASE}/sign-out"
    SIGN_UP_EMAIL: Final = f"{API_BASE}/sign-up/email"
    SIGN_IN_EMAIL: Final = f"{API_BASE}/sign-in/email"
    HEALTH: Final = "/api/health"
    OAUTH_METADATA: Final = "/.well-known/oauth-authorization-server"
    TRPC_HEALTH: Final = "/trpc/healthCheck"
    TRPC_ME: Final = "/trpc/me"
    # Browser pages
    HOME_PAGE: Final = "/"
    DEVICE_PAGE: Final = "/device"
    DEVICE_APPROVE_PAGE: Final = "/device/approve"
    DEVICE_DENY_PAGE: Final = "/device/deny"
    DEVICE_DONE_PAGE: Final = "/device/done"
    LOGIN_PAGE: Final = "/login"
    SIGN_UP_PAGE: Final = "/signup"
    LOGOUT_PAGE: Final = "/logout"
    ACCOUNT_PAGE: Final = "/account"
    #: ``{session_id}`` is the session to end.
    REVOKE_SESSION_PAGE: Final = "/account/sessions/{session_id}/revoke"
    SIGN_OUT_EVERYWHERE_PAGE: Final = "/account/sign-out-everywhere"
    TOKENS_PAGE: Final = "/account/tokens"
    #: ``{token_id}`` is the personal access token to revoke.
    REVOKE_TOKEN_PAGE: Final = "/account/tokens/{token_id}/revoke"


def normalize_user_code(raw: str) -> str:
    """Canonical form of a user code: upper case, dashes and white space removed."""
    return "".join(ch for ch in raw if ch not in "- \t").upper()


def format_user_code(code: str) -> str:
    """Show a user code as ``XXXX-XXXX`` (RFC 8628 §6.1: easier to read and type)."""
    code = normalize_user_code(code)
    if len(code) == USER_CODE_LENGTH:
        return f"{code[:4]}-{code[4:]}"
    return code


def is_user_code(code: str) -> bool:
    """Whether a normalized code can be a user code: its length, letters of the alphabet."""
    return len(code) == USER_CODE_LENGTH and all(c in USER_CODE_ALPHABET for c in code)


def parse_user_code(raw: str) -> str | None:
    """The code as ``XXXX-XXXX`` if typed text ``raw`` can be one, else None: no lookup is
    needed to refuse it."""
    raw = raw.strip()
    if len(raw) > MAX_USER_CODE_INPUT or not raw.isascii() or not raw.isprintable():
        return None
    code = normalize_user_code(raw)
    return format_user_code(code) if is_user_code(code) else None


def clean_hostname(raw: str | None) -> str | None:
    """A computer name fit to send and show: stripped, printable (no control, format or
    direction characters), at most :data:`MAX_HOSTNAME` characters; else None."""
    name = (raw or "").strip()
    if not name or len(name) > MAX_HOSTNAME or not name.isprintable():
        return None
    return name
