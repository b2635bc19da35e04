"""Runtime configuration of the CLI: the server URL and the token from the environment.

``SERVER_URL`` is resolved as the documentation says (environment, then a ``.env`` file in the
project root, then ``http://localhost:3000``), with ``--server`` above all three. This module
does no network I/O and imports nothing heavy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from better_skills.client.errors import ConfigError
from better_skills.protocol.wire import is_header_safe

__all__ = [
    "DEFAULT_SERVER_URL",
    "SERVER_URL_ENV",
    "TOKEN_ENV",
    "ServerUrl",
    "find_dotenv",
    "normalize_server_url",
    "read_dotenv",
    "resolve_server_url",
    "token_from_env",
]

DEFAULT_SERVER_URL = "http://localhost:3000"
SERVER_URL_ENV = "SERVER_URL"
TOKEN_ENV = "BETTER_SKILLS_TOKEN"

#: A .env file larger than this is not a configuration file; we do not read it.
_MAX_DOTENV_BYTES = 256 * 1024


@dataclass(frozen=True)
class ServerUrl:
    """A validated server URL without a trailing slash, and where it came from."""

    url: str
    source: str

    def __str__(self) -> str:
        return self.url


def normalize_server_url(raw: str, source: str) -> str:
    """Validate an http(s) URL and drop trailing slashes; the error names ``source``."""
    value = raw.strip()

    def invalid(why: str) -> ConfigError:
        return ConfigError(
            f"Invalid server URL {value!r} from {source}: {why}.",
            hints=("Use a URL such as http://localhost:3000 or https://api.betterskills.ai.",),
        )

    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise invalid("it contains spaces or control characters")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise invalid(str(exc)) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise invalid("it must start with http:// or https://")
    if not parts.hostname:
        raise invalid("it has no host name")
    if parts.username is not None or parts.password is not None:
        raise invalid("credentials do not belong in the URL")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise invalid("it must not have a query string or fragment")
    return value.rstrip("/")


def find_dotenv(start: Path, home: Path | None = None) -> Path | None:
    """The nearest ``.env`` file from ``start`` upward, stopping at the git root or home.

    The stopping folder itself is searched: the git root is the project root.
    """
    home = home if home is not None else Path.home()
    current = start.absolute()
    while True:
        candidate = current / ".env"
        if candidate.is_file():
            return candidate
        if (current / ".git").exists() or current == home or current.parent == current:
            return None
        current = current.parent


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse ``KEY=value`` lines (``export``, quotes and ``#`` comments allowed)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_DOTENV_BYTES + 1)
    except OSError:
        return {}
    if len(data) > _MAX_DOTENV_BYTES:
        return {}
    values: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def resolve_server_url(
    flag: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
) -> ServerUrl:
    """``--server``, then ``$SERVER_URL``, then ``SERVER_URL`` in ``.env``, then the default.

    An empty value counts as unset, as with most tools.
    """
    environ = os.environ if environ is None else environ
    if flag:
        return ServerUrl(normalize_server_url(flag, "--server"), "--server")
    from_env = environ.get(SERVER_URL_ENV, "").strip()
    if from_env:
        source = "the SERVER_URL environment variable"
        return ServerUrl(normalize_server_url(from_env, source), source)
    dotenv = find_dotenv(cwd if cwd is not None else Path.cwd(), home)
    if dotenv is not None:
        from_file = read_dotenv(dotenv).get(SERVER_URL_ENV, "").strip()
        if from_file:
            source = f"SERVER_URL in {dotenv}"
            return ServerUrl(normalize_server_url(from_file, source), source)
    return ServerUrl(DEFAULT_SERVER_URL, "the default")


def token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``$BETTER_SKILLS_TOKEN`` if set and non-empty; it overrides the session file."""
    environ = os.environ if environ is None else environ
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        return None
    if not is_header_safe(token):
        raise ConfigError(
            f"{TOKEN_ENV} is not a valid token: it contains spaces or non-ASCII characters.",
            hints=(f"Unset {TOKEN_ENV} to use the session file instead.",),
        )
    return token
