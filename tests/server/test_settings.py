"""Settings: defaults, parsing, and a one-line refusal naming the bad setting."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from better_skills.server.settings import RateLimit, SettingsError, load_settings, parse_duration
from tests.support.live_server import server_executable


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({"XDG_DATA_HOME": str(tmp_path)}, tmp_path / ".env")
    assert settings.port == 3000
    assert settings.public_url == "http://localhost:3000"
    assert settings.session_ttl == 8 * 3600
    assert settings.device_code_ttl == 30 * 60
    assert settings.poll_interval == 5
    assert settings.client_ids == ("better-skills-cli",)
    assert settings.sqlite_path == tmp_path / "better-skills" / "better-skills.db"
    assert settings.user_code_limit == RateLimit(10, 900)
    assert (settings.header_timeout, settings.body_timeout) == (10, 30)
    assert (settings.keep_alive_timeout, settings.max_connections) == (5, 1000)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=4000\nSESSION_TTL=2h\n")
    settings = load_settings({"PORT": "5000"}, tmp_path / ".env")
    assert settings.port == 5000
    assert settings.session_ttl == 7200


def test_database_urls_map_to_async_drivers(tmp_path: Path) -> None:
    sqlite = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, tmp_path / ".env")
    assert sqlite.database_url == f"sqlite+aiosqlite:///{tmp_path}/x.db"
    pg = load_settings(
        {"DATABASE_URL": "postgres://u:secret@db:5432/skills", "SECRET_KEY": "k" * 32},
        tmp_path / ".env",
    )
    assert pg.database_url == "postgresql+asyncpg://u:secret@db:5432/skills"
    assert "secret" not in pg.display_database()


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("90", 90), ("90s", 90), ("30m", 1800), ("8h", 28800), ("1d", 86400), ("500ms", 0.5)],
)
def test_parse_duration(raw: str, seconds: float) -> None:
    assert parse_duration("X", raw) == seconds


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"SESSION_TTL": "forever"}, "SESSION_TTL"),
        ({"DEVICE_CODE_TTL": "0"}, "DEVICE_CODE_TTL"),
        ({"POLL_INTERVAL": "-1"}, "POLL_INTERVAL"),
        ({"PUBLIC_URL": "ftp://x"}, "PUBLIC_URL"),
        ({"TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip"}, "TRUSTED_PROXIES"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite://"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://x/y"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"RATE_LIMIT_USER_CODE": "ten"}, "RATE_LIMIT_USER_CODE"),
        ({"WORKERS": "0"}, "WORKERS"),
        ({"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE"),
        ({"HEADER_TIMEOUT": "0"}, "HEADER_TIMEOUT"),
        ({"BODY_TIMEOUT": "slow"}, "BODY_TIMEOUT"),
        ({"KEEP_ALIVE_TIMEOUT": "-5"}, "KEEP_ALIVE_TIMEOUT"),
        ({"MAX_CONNECTIONS": "0"}, "MAX_CONNECTIONS"),
        ({"OPENTELEMETRY": "yes"}, "OPENTELEMETRY"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], named: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=f"^{named}: "):
        load_settings(env, tmp_path / ".env")


def test_server_stops_with_one_line_on_a_bad_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        server_executable(),
        env={"PATH": "/usr/bin:/bin", "PORT": "not-a-port", "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "better-skills-server: PORT: expected a whole number, got 'not-a-port'"
    ]


def test_opentelemetry_is_off_unless_asked_for(tmp_path: Path) -> None:
    """FastAPI's native telemetry asks the OpenTelemetry API on every request whether a
    provider is configured: the app turns it off unless OPENTELEMETRY=on."""
    from better_skills.server.app import create_app

    base = {"XDG_DATA_HOME": str(tmp_path)}
    off = load_settings(base, tmp_path / ".env")
    on = load_settings({**base, "OPENTELEMETRY": "On"}, tmp_path / ".env")
    assert (off.opentelemetry, on.opentelemetry) == (False, True)
    # FastAPI keeps its configuration in _telemetry: there is no public reader.
    assert create_app(off)._telemetry["tracing"] is False  # type: ignore[attr-defined]
    assert create_app(on)._telemetry["tracing"] is True  # type: ignore[attr-defined]
