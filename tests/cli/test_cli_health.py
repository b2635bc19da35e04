"""``better-skills health``."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from better_skills.cli.commands.health import HealthOptions, run
from better_skills.cli.common import AppState
from better_skills.cli.main import EXIT_ERROR
from better_skills.client.errors import ServerUnreachable
from tests.cli.conftest import Harness


def health(harness: Harness, **options: object) -> int:
    return run(HealthOptions(**options), harness.deps(AppState()))  # type: ignore[arg-type]


def test_healthy(harness: Harness) -> None:
    assert health(harness) == 0
    lines = harness.out.splitlines()
    assert lines[0].split() == ["Server", "http://testserver"]
    assert lines[1].split() == ["Status", "ok"]
    assert lines[2].split() == ["Version", "9.9.9"]
    assert lines[3].split() == ["Database", "ok"]
    assert lines[4].startswith("Round trip") and lines[4].endswith(" ms")


def test_json(harness: Harness) -> None:
    health(harness, as_json=True)
    result = json.loads(harness.out)
    assert result["reachable"] is True
    assert result["status"] == "ok"
    assert result["version"] == "9.9.9"
    assert result["httpStatus"] == 200
    assert isinstance(result["roundTripMs"], float)


def test_database_down(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    harness.server.health = httpx.Response(
        503, json={"status": "error", "version": "1.0", "database": "unavailable"}
    )
    assert run_cli("health") == EXIT_ERROR
    assert "unavailable" in harness.out
    assert "not healthy (HTTP 503)" in capsys.readouterr().err


def test_health_raises_a_typed_error_instead_of_printing_it(harness: Harness) -> None:
    harness.server.health = httpx.ConnectError("[Errno 111] Connection refused")
    with pytest.raises(ServerUnreachable):
        health(harness)
    assert harness.err == ""


def test_unreachable_prints_the_troubleshooting_steps(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    harness.server.health = httpx.ConnectError("[Errno 111] Connection refused")
    assert run_cli("health") == EXIT_ERROR
    err = capsys.readouterr().err
    assert "Cannot reach the server at http://testserver (connection refused)" in err
    assert "1. Check your SERVER_URL environment variable (now http://testserver)." in err
    assert "2. Verify the server is running." in err
    assert "3. Check network connectivity." in err
    assert "better-skills health" not in err  # no advice to run the command we are running


def test_unreachable_json(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    """One JSON error object on stdout (issue 15 item 6), with health's fields."""
    harness.server.health = httpx.ConnectError("[Errno 111] Connection refused")
    assert run_cli("health", "--json") == EXIT_ERROR
    assert harness.out == ""
    result = json.loads(capsys.readouterr().out)
    assert result["error"] == "server_unreachable"
    assert result["server"] == "http://testserver"
    assert result["reachable"] is False
    assert result["reason"] == "connection refused"
    assert result["message"].startswith("Cannot reach the server at http://testserver")
    assert result["exitCode"] == EXIT_ERROR
    assert len(result["hints"]) == 3


def test_unhealthy_json_is_one_error_object(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    harness.server.health = httpx.Response(
        503, json={"status": "error", "version": "1.0", "database": "unavailable"}
    )
    assert run_cli("health", "--json") == EXIT_ERROR
    assert harness.out == ""
    result = json.loads(capsys.readouterr().out)
    assert result["error"] == "server_unhealthy"
    assert (result["database"], result["httpStatus"], result["exitCode"]) == ("unavailable", 503, 1)


@pytest.mark.parametrize(
    ("flag", "env", "dotenv", "first"),
    [
        (
            "http://127.0.0.1:9",
            None,
            None,
            "1. Check the URL given with --server (now http://127.0.0.1:9).",
        ),
        (None, None, None, "1. Set SERVER_URL or pass --server: none is set, so the default"),
        (None, None, "http://127.0.0.1:9", "1. Check SERVER_URL in "),
    ],
)
def test_the_first_hint_names_where_the_url_came_from(
    harness: Harness,
    run_cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    flag: str | None,
    env: str | None,
    dotenv: str | None,
    first: str,
) -> None:
    """Issue 15 item 7: the hint said "your SERVER_URL environment variable" whatever the source."""
    harness.server.health = httpx.ConnectError("[Errno 111] Connection refused")
    del harness.environ["SERVER_URL"]
    if dotenv:
        (harness.tmp_path / ".env").write_text(f"SERVER_URL={dotenv}\n")
    args = ["health", "--server", flag] if flag else ["health"]
    assert run_cli(*args) == EXIT_ERROR
    err = capsys.readouterr().err
    assert first in err
    assert "environment variable" not in err


def test_not_a_better_skills_server(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    harness.server.health = httpx.Response(404, text="<html>")
    assert run_cli("health") == EXIT_ERROR
    err = capsys.readouterr().err
    assert "HTTP 404" in err
    assert "SERVER_URL" in err


def test_server_flag(harness: Harness, run_cli: Callable[..., int]) -> None:
    assert run_cli("health", "--server", "http://testserver/") == 0
    assert run_cli("--server", "http://testserver", "health") == 0
    assert run_cli("health", "--server", "nope") == 2
