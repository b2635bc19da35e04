"""Errors of the client layer, each carrying a user-facing message and optional hints.

None of these needs a traceback: the CLI prints the message and hints, and maps the class to an
exit code in one table (``better_skills.cli.main``). Exception tree::

    ClientError
    ├── ConfigError              an invalid SERVER_URL, --server or BETTER_SKILLS_TOKEN
    ├── SessionFileError         the session file is corrupt, truncated, of an unknown version...
    ├── SessionStoreUnwritable   the session folder cannot be written (the doc's three remedies)
    ├── NotAuthenticated         no session, an expired one, or one the server rejects
    │   └── CredentialServerMismatch  the token belongs to another server than this one
    └── ApiError
        ├── ServerUnreachable    network error or timeout
        ├── ServerError          5xx or another status the contract does not allow
        ├── ServerUnhealthy      /api/health answered, but not "ok"
        ├── UnexpectedResponse   not JSON, too large, wrong shape, unsafe verification URI
        ├── NotFound             a skill, vault or file that does not exist or is not yours (exit 3)
        ├── Conflict             an ambiguous slug, a taken slug, a stale update (exit 5)
        └── Refused              another 4xx of /api/v1 (validation, forbidden, too large)

OAuth errors from the server (``access_denied``, ``expired_token``, ...) are raised as the
classes of ``better_skills.protocol.errors``, so both sides share one set of error codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "ClientError",
    "ConfigError",
    "Conflict",
    "CredentialServerMismatch",
    "NotAuthenticated",
    "NotFound",
    "Refused",
    "ServerError",
    "ServerUnhealthy",
    "ServerUnreachable",
    "SessionFileError",
    "SessionStoreUnwritable",
    "UnexpectedResponse",
]


class ClientError(Exception):
    """An error the user can act on: a one-line message and optional hints.

    ``code`` names the kind in ``--json`` error objects; ``data`` adds fields to that object.
    """

    code: ClassVar[str] = "error"

    def __init__(
        self, message: str, *, hints: Sequence[str] = (), data: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hints = tuple(hints)
        self.data: dict[str, Any] = dict(data or {})


class ConfigError(ClientError):
    """A setting is invalid; the message names where the value came from."""

    code = "invalid_config"


class SessionFileError(ClientError):
    """The session file exists but cannot be used."""

    code = "session_file_damaged"

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"The session file {path} {reason}.",
            hints=("Run `better-skills login` to create a new session.",),
        )
        self.path = path
        self.reason = reason


class SessionStoreUnwritable(ClientError):
    """The session folder or file cannot be written or removed."""

    code = "session_file_unwritable"

    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(
            f"Cannot write to {path}: {cause}.",
            hints=(
                f"Check the permissions of {path.parent} (it should belong to you).",
                "Or set XDG_CONFIG_HOME to a writable directory.",
                "Or run better-skills as the user who owns that directory.",
            ),
        )
        self.path = path


class NotAuthenticated(ClientError):
    """No usable credential: not logged in, an expired or refused session, a refused token.

    A session that has ended keeps the documented wording "session invalid or expired".
    """

    code = "not_authenticated"

    LOGIN_HINT = "Run `better-skills login` to log in."

    def __init__(self, message: str = "Not logged in.", *, hints: Sequence[str] = ()) -> None:
        super().__init__(message, hints=hints or (self.LOGIN_HINT,))


class CredentialServerMismatch(NotAuthenticated):
    """The token was issued by another server; it is never sent to this one."""

    code = "wrong_server"

    def __init__(self, token_server: str, server: str, *, hints: Sequence[str] = ()) -> None:
        super().__init__(
            f"You are logged in to {token_server}, not {server}; the token is only sent to "
            "the server that issued it.",
            hints=hints or (f"Run `better-skills login --server {server}` to log in there.",),
        )
        self.token_server = token_server
        self.server = server


class ApiError(ClientError):
    """The server could not be used for the request."""

    code = "api_error"


class ServerUnreachable(ApiError):
    """No HTTP answer at all: connection refused, DNS failure, timeout."""

    code = "server_unreachable"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Cannot reach the server at {url} ({reason}).")
        self.url = url
        self.reason = reason


class ServerError(ApiError):
    """An HTTP status the contract does not allow here (5xx included)."""

    code = "server_error"

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class UnexpectedResponse(ApiError):
    """An answer we refuse to use: not JSON, too large, wrong shape or unsafe."""

    code = "unexpected_response"


class ServerUnhealthy(ApiError):
    """The server answered its health check, but is not healthy (its database is down...)."""

    code = "server_unhealthy"


class NotFound(ApiError):
    """The server has no such skill, vault or file for this caller (HTTP 404; exit 3)."""

    code = "not_found"


class Conflict(ApiError):
    """The request conflicts with the server's state (exit 5): an ambiguous or taken slug
    (HTTP 409), or a skill changed since it was cloned (HTTP 412)."""

    code = "conflict"


class Refused(ApiError):
    """Another 4xx answer of ``/api/v1``; ``code`` is the server's error code."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        hints: Sequence[str] = (),
        data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, hints=hints, data=data)
        self.code = code  # type: ignore[misc]
