"""``better-skills health`` against a real server process, up and down."""

from __future__ import annotations

import json
from pathlib import Path

from better_skills import __version__
from tests.support.live_cli import Cli
from tests.support.live_server import LiveServer


def test_health_up(tmp_path: Path, shared_server: LiveServer) -> None:
    cli = Cli(tmp_path, shared_server.url)
    result = cli.run("health")
    assert result.returncode == 0, result.stderr
    assert shared_server.url in result.stdout
    assert "ok" in result.stdout
    assert __version__ in result.stdout
    assert "Round trip" in result.stdout

    data = json.loads(cli.run("health", "--json").stdout)
    assert data["reachable"] is True
    assert data["status"] == "ok"
    assert data["database"] == "ok"
    assert data["roundTripMs"] > 0


def test_health_down(tmp_path: Path, live_server: LiveServer) -> None:
    """On a server of its own: it stops it."""
    cli = Cli(tmp_path, live_server.url)
    live_server.stop()
    result = cli.run("health")
    assert result.returncode == 1
    assert f"Cannot reach the server at {live_server.url}" in result.stderr
    assert "Check your SERVER_URL environment variable" in result.stderr
    assert "Verify the server is running" in result.stderr
    assert "Check network connectivity" in result.stderr
    assert "Traceback" not in result.stderr


def test_server_flag_overrides_the_environment(tmp_path: Path, shared_server: LiveServer) -> None:
    cli = Cli(tmp_path, "http://127.0.0.1:9")  # nothing listens on the discard port
    assert cli.run("health").returncode == 1
    assert cli.run("health", "--server", shared_server.url).returncode == 0
