"""Typed server settings, read from the environment and then a ``.env`` file.

Every setting is validated at start-up; a bad value raises :class:`SettingsError` whose
message names the setting, so the server can stop with one clear line.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from better_skills.protocol.device_flow import CLIENT_ID

#: Set by ``better-skills-server`` once it has migrated, so that workers do not repeat it.
#: (Here, not in app, so that the server's supervisor process need not import the app.)
MIGRATED_ENV = "_BETTER_SKILLS_MIGRATED"


class SettingsError(ValueError):
    """A setting has a value the server cannot use."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(name: str, raw: str) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"30m"``, ``"8h"`` or ``"1d"``."""
    match = _DURATION.match(raw)
    if not match:
        raise SettingsError(f"{name}: expected a duration such as 300, 30m or 8h, got {raw!r}")
    unit = match.group(2).lower() if match.group(2) else None
    seconds = float(match.group(1)) * _UNITS[unit]
    if seconds <= 0:
        raise SettingsError(f"{name}: must be greater than zero, got {raw!r}")
    return seconds


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events per ``window`` seconds; ``limit`` 0 turns the limit off."""

    limit: int
    window: float

    @classmethod
    def parse(cls, name: str, raw: str) -> RateLimit:
        count, sep, window = raw.partition("/")
        if not sep or not count.strip().isdigit():
            raise SettingsError(f"{name}: expected COUNT/DURATION such as 10/15m, got {raw!r}")
        return cls(int(count), parse_duration(name, window))


def _on_off(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "off"):
        return False
    if value == "on":
        return True
    raise SettingsError(f"{name}: expected on or off, got {raw!r}")


def default_data_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/better-skills``, else ``~/.local/share/better-skills``."""
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "better-skills"


@dataclass(frozen=True)
class Settings:
    """Everything the server can be told; see the README for each setting. The defaults
    here are the only ones: :func:`load_settings` keeps them for variables that are unset."""

    database_url: str
    host: str = "127.0.0.1"
    port: int = 3000
    public_url: str = "http://localhost:3000"
    session_ttl: float = 8 * 3600.0
    device_code_ttl: float = 30 * 60.0
    poll_interval: int = 5
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    secret_key: bytes | None = None
    client_ids: tuple[str, ...] = (CLIENT_ID,)
    workers: int = 1
    database_pool_size: int = 4
    log_level: str = "info"
    sweep_interval: float = 60.0
    user_code_limit: RateLimit = RateLimit(10, 15 * 60.0)
    sign_in_limit: RateLimit = RateLimit(10, 15 * 60.0)
    # Issue 16: the per-email ceiling (high, so that nobody can lock an account out
    # cheaply), and sign-ups per address.
    sign_in_email_limit: RateLimit = RateLimit(100, 15 * 60.0)
    sign_up_limit: RateLimit = RateLimit(20, 60 * 60.0)
    device_code_limit: RateLimit = RateLimit(60, 10 * 60.0)
    #: Writes per user (skill creates, updates, deletes; shares and invitations): issue 18.
    write_limit: RateLimit = RateLimit(600, 10 * 60.0)
    trusted_origins: tuple[str, ...] = field(default=())
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 1000
    #: Skill size limits (issue 11): bytes per file, bytes per skill, files per skill.
    max_file_bytes: int = 1024 * 1024
    max_skill_bytes: int = 10 * 1024 * 1024
    max_skill_files: int = 1000
    #: Who may create team vaults (issue 14): "anyone" signed in, or server "admins".
    team_vaults: str = "anyone"
    #: FastAPI's native OpenTelemetry ("on": spans and metrics to the globally configured
    #: providers). Off by default: the check alone costs every request (docs/performance.md).
    opentelemetry: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        return Path(path) if path and path != ":memory:" else None

    def display_database(self) -> str:
        """The database location without a password, for the start-up log line."""
        if self.is_sqlite:
            return str(self.sqlite_path or self.database_url)
        parts = urlsplit(self.database_url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        return f"{parts.scheme.split('+')[0]}://{user}{host}{port}{parts.path}"


def _async_database_url(raw: str, env: Mapping[str, str]) -> str:
    """Map a user-facing URL onto the async driver we run it with."""
    if not raw:
        path = default_data_dir(env) / "better-skills.db"
        return f"sqlite+aiosqlite:///{path}"
    scheme, sep, rest = raw.partition("://")
    if not sep:
        raise SettingsError(
            f"DATABASE_URL: expected sqlite:///PATH or postgresql://..., got {raw!r}"
        )
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        path = rest[1:] if rest.startswith("/") else ""
        if not path or path == ":memory:" or path.startswith(":memory:?"):
            # Every pooled connection would open its own empty database.
            raise SettingsError(
                f"DATABASE_URL: SQLite needs a file, such as sqlite:///PATH/to.db; got {raw!r}"
            )
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgres", "postgresql"):
        return f"postgresql+asyncpg://{rest}"
    raise SettingsError(f"DATABASE_URL: unsupported database {scheme!r}; use sqlite or postgresql")


def _int(name: str, raw: str, *, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _origin_of(name: str, raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name}: expected an http(s) URL such as https://skills.example.com")
    return f"{parts.scheme}://{parts.netloc}"


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(f"TRUSTED_PROXIES: {item!r} is not an IP address or CIDR") from None
    return tuple(nets)


def read_env_file(path: Path) -> dict[str, str]:
    """Variables of a ``.env`` file, or nothing if there is none."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _whole(low: int, high: int) -> Callable[[str, str], int]:
    return lambda name, raw: _int(name, raw, low=low, high=high)


def _poll_interval(name: str, raw: str) -> int:
    return max(1, round(parse_duration(name, raw)))


def _client_ids(_name: str, raw: str) -> tuple[str, ...]:
    return tuple(filter(None, (c.strip() for c in raw.split(","))))


#: The variables read with a parser and the field each sets; an unset one keeps the field's
#: default (Settings holds the only copy of each default).
VARIABLES: tuple[tuple[str, str, Callable[[str, str], Any]], ...] = (
    ("PORT", "port", _whole(1, 65535)),
    ("CLIENT_IDS", "client_ids", _client_ids),
    ("LOG_LEVEL", "log_level", lambda _name, raw: raw.lower()),
    ("SESSION_TTL", "session_ttl", parse_duration),
    ("DEVICE_CODE_TTL", "device_code_ttl", parse_duration),
    ("POLL_INTERVAL", "poll_interval", _poll_interval),
    ("WORKERS", "workers", _whole(1, 64)),
    ("DATABASE_POOL_SIZE", "database_pool_size", _whole(1, 100)),
    ("SWEEP_INTERVAL", "sweep_interval", parse_duration),
    ("RATE_LIMIT_USER_CODE", "user_code_limit", RateLimit.parse),
    ("RATE_LIMIT_SIGN_IN", "sign_in_limit", RateLimit.parse),
    ("RATE_LIMIT_SIGN_IN_EMAIL", "sign_in_email_limit", RateLimit.parse),
    ("RATE_LIMIT_SIGN_UP", "sign_up_limit", RateLimit.parse),
    ("RATE_LIMIT_DEVICE_CODE", "device_code_limit", RateLimit.parse),
    ("RATE_LIMIT_WRITES", "write_limit", RateLimit.parse),
    ("HEADER_TIMEOUT", "header_timeout", parse_duration),
    ("BODY_TIMEOUT", "body_timeout", parse_duration),
    ("KEEP_ALIVE_TIMEOUT", "keep_alive_timeout", parse_duration),
    ("MAX_CONNECTIONS", "max_connections", _whole(1, 1_000_000)),
    ("MAX_FILE_BYTES", "max_file_bytes", _whole(1, 1 << 30)),
    ("MAX_SKILL_BYTES", "max_skill_bytes", _whole(1, 1 << 31)),
    ("MAX_SKILL_FILES", "max_skill_files", _whole(1, 100_000)),
    ("OPENTELEMETRY", "opentelemetry", _on_off),
)
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings)}


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Settings from the environment, falling back to ``.env`` in the working directory."""
    environ = os.environ if environ is None else environ
    env = {**read_env_file(env_file or Path.cwd() / ".env"), **environ}

    def get(name: str) -> str:
        return env.get(name, "").strip()

    # Set but empty is a value (refused by most parsers); unset keeps the default.
    parsed = {
        field: _DEFAULTS[field] if env.get(name) is None else parse(name, env[name].strip())
        for name, field, parse in VARIABLES
    }
    public_url = get("PUBLIC_URL") or f"http://localhost:{parsed['port']}"
    public_origin = _origin_of("PUBLIC_URL", public_url)
    secret = get("SECRET_KEY")
    if secret and len(secret) < 32:
        raise SettingsError("SECRET_KEY: use at least 32 characters (try: openssl rand -hex 32)")
    if not parsed["client_ids"]:
        raise SettingsError("CLIENT_IDS: name at least one client id")
    log_level = parsed["log_level"]
    if log_level not in ("critical", "error", "warning", "info", "debug"):
        raise SettingsError(f"LOG_LEVEL: expected debug, info, warning or error, got {log_level!r}")
    extra_origins = tuple(
        _origin_of("TRUSTED_ORIGINS", o) for o in get("TRUSTED_ORIGINS").split(",") if o.strip()
    )
    settings = Settings(
        **parsed,
        database_url=_async_database_url(get("DATABASE_URL"), env),
        host=get("HOST") or _DEFAULTS["host"],
        public_url=public_url.rstrip("/"),
        trusted_proxies=_networks(get("TRUSTED_PROXIES")),
        secret_key=secret.encode() if secret else None,
        trusted_origins=(public_origin, *extra_origins),
        team_vaults=get("TEAM_VAULTS").lower() or _DEFAULTS["team_vaults"],
    )
    if settings.team_vaults not in ("anyone", "admins"):
        raise SettingsError(f"TEAM_VAULTS: expected anyone or admins, got {settings.team_vaults!r}")
    if not settings.is_sqlite and settings.secret_key is None:
        raise SettingsError(
            "SECRET_KEY: required with PostgreSQL so that every replica shares one key"
        )
    return settings
