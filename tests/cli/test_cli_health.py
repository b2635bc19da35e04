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
    assert (
        "1. Check your SERVER_URL environment variable "
        "(now http://testserver, from the SERVER_URL environment variable)."
    ) in err
    assert "2. Verify the server is running." in err
    assert "3. Check network connectivity." in err
    assert "better-skills health" not in err  # no advice to run the command we are running


def test_unreachable_json(harness: Harness, run_cli: Callable[..., int]) -> None:
    harness.server.health = httpx.ConnectError("[Errno 111] Connection refused")
    assert run_cli("health", "--json") == EXIT_ERROR
    assert json.loads(harness.out) == {
        "server": "http://testserver",
        "reachable": False,
        "error": "connection refused",
    }


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
