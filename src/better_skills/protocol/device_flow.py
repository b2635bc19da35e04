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

#: Optional field of the device authorization request: the CLI machine's host name, which the
#: approval page and the account page show ("ada-laptop"). Not part of RFC 8628.
HOSTNAME_FIELD: Final = "hostname"
MAX_HOSTNAME_LENGTH: Final = 253

#: The alphabet of user codes: RFC 8628 §6.1's 20 consonants, no vowels and no look-alikes.
USER_CODE_ALPHABET: Final = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH: Final = 8


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
    DEVICE_PAGE: Final = "/device"
    LOGIN_PAGE: Final = "/login"
    ACCOUNT_PAGE: Final = "/account"


def normalize_user_code(raw: str) -> str:
    """Canonical form of a user code: upper case, dashes and white space removed."""
    return "".join(ch for ch in raw if ch not in "- \t").upper()


def format_user_code(code: str) -> str:
    """Show a user code as ``XXXX-XXXX`` (RFC 8628 §6.1: easier to read and type)."""
    code = normalize_user_code(code)
    if len(code) == USER_CODE_LENGTH:
        return f"{code[:4]}-{code[4:]}"
    return code
