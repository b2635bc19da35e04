"""Runtime configuration of the CLI: the server URL and the token from the environment.

``SERVER_URL`` is resolved as the documentation says (environment, then a ``.env`` file in the
project root, then ``http://localhost:3000``), with ``--server`` above all three. The project's
``.env`` is the one in the working directory or at its git root, and only if it is the user's own
file and others cannot write to it. This module does no network I/O and imports nothing heavy
(python-dotenv only when a ``.env`` is there).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
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
    "same_server",
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
    #: Named only by a ``.env`` file, which any repository can contain (see ``credentials``).
    from_dotenv: bool = False

    def __str__(self) -> str:
        return self.url


def same_server(a: str, b: str) -> bool:
    """Whether two server URLs name the same server (scheme and host case, default ports)."""

    def key(url: str) -> tuple[str, str, int | None, str]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        default = {"http": 80, "https": 443}.get(scheme)
        return (
            scheme,
            (parts.hostname or "").lower(),
            parts.port or default,
            parts.path.rstrip("/"),
        )

    try:
        return key(a) == key(b)
    except ValueError:
        return False


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
    """The project's ``.env``: in ``start`` (the working directory), else at its git root.

    Nothing above the project is searched: a ``.env`` in a parent folder (a shared temporary
    folder, say) is not the project's, and anyone may have put it there. ``home`` is accepted
    for compatibility and no longer used.
    """
    del home
    current = start.absolute()
    if (current / ".env").is_file():
        return current / ".env"
    for folder in (current, *current.parents):
        if (folder / ".git").exists():
            candidate = folder / ".env"
            return candidate if candidate.is_file() else None
    return None


def read_dotenv(path: Path, *, on_notice: Callable[[str], None] | None = None) -> dict[str, str]:
    """``KEY=value`` pairs of a ``.env`` file, in python-dotenv's dialect (the server's too).

    The file is used only if it belongs to the current user and others cannot write to it;
    otherwise (and when it is unreadable or too large) the result is empty and ``on_notice``
    says why.
    """
    notice = on_notice or (lambda _message: None)
    try:
        with path.open("rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read(_MAX_DOTENV_BYTES + 1)
    except OSError:
        return {}
    getuid = getattr(os, "getuid", None)
    if getuid is not None and st.st_uid != getuid():
        notice(f"Ignored {path}: it belongs to another user.")
        return {}
    if st.st_mode & 0o002:
        notice(f"Ignored {path}: other users can write to it (chmod o-w {path} to use it).")
        return {}
    if len(data) > _MAX_DOTENV_BYTES:
        return {}
    import io

    from dotenv.parser import parse_stream  # only when a .env exists: start-up stays fast

    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(data.decode("utf-8", errors="replace"))):
        if binding.key and binding.value is not None and not binding.error:
            values[binding.key] = binding.value
    return values


def resolve_server_url(
    flag: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> ServerUrl:
    """``--server``, then ``$SERVER_URL``, then ``SERVER_URL`` in ``.env``, then the default.

    An empty variable counts as unset, as with most tools (an empty ``--server`` is an error).
    ``.env`` is the project's only
    (:func:`find_dotenv`, :func:`read_dotenv`).
    """
    environ = os.environ if environ is None else environ
    if flag is not None:  # `--server ''` is a mistake, not "unset"
        return ServerUrl(normalize_server_url(flag, "--server"), "--server")
    from_env = environ.get(SERVER_URL_ENV, "").strip()
    if from_env:
        source = "the SERVER_URL environment variable"
        return ServerUrl(normalize_server_url(from_env, source), source)
    dotenv = find_dotenv(cwd if cwd is not None else Path.cwd(), home)
    if dotenv is not None:
        from_file = read_dotenv(dotenv, on_notice=on_notice).get(SERVER_URL_ENV, "").strip()
        if from_file:
            source = f"SERVER_URL in {dotenv}"
            return ServerUrl(normalize_server_url(from_file, source), source, from_dotenv=True)
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
