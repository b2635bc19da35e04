"""``better-skills-server`` starting and stopping: the listening socket, its one-line errors and
exit codes, the start-up and shutdown lines, and uvicorn's limits (issue 15 item 5, issue 16
item 5)."""

from __future__ import annotations

import resource
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from better_skills.server.main import (
    EXIT_CANNOT_LISTEN,
    FILES_BESIDES_CONNECTIONS,
    _cli_hint,
    server_config,
)
from better_skills.server.settings import load_settings
from tests.support.live_server import LiveServer, free_port, server_executable


def run_server(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server_executable(),
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_busy_port_is_one_line_naming_the_address_and_port(tmp_path: Path) -> None:
    """Before the fix: "listening on http://127.0.0.1:PORT", then uvicorn's raw
    "[Errno 98] address already in use", and exit 3 undocumented."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_server(tmp_path, PORT=str(port))
    assert result.returncode == EXIT_CANNOT_LISTEN == 3
    assert result.stderr.strip().splitlines() == [
        f"better-skills-server: cannot listen on http://127.0.0.1:{port}: the port is in use "
        f"by another program; stop it or choose another port with the PORT setting "
        f"(PORT={port} now)"
    ]
    assert "listening on" not in result.stdout + result.stderr


@pytest.mark.parametrize("host", ["192.0.2.1", "2001:db8::1"])
def test_an_address_of_another_machine_is_one_line_naming_host(tmp_path: Path, host: str) -> None:
    result = run_server(tmp_path, HOST=host, PORT="3000")
    assert result.returncode == EXIT_CANNOT_LISTEN
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("better-skills-server: cannot listen on http://")
    assert host in lines[0] and "set HOST" in lines[0]


@pytest.mark.backends("sqlite")
def test_start_up_says_how_to_reach_it_and_shutdown_is_logged(
    live_server: LiveServer,
) -> None:
    live_server.stop()
    lines = live_server.log().splitlines()
    start = next(line for line in lines if "listening on" in line)
    # The test server's PORT is not the CLI's default: the line says how to point the CLI.
    assert f"SERVER_URL={live_server.url} better-skills login" in start
    assert f"--server {live_server.url}" in start
    assert lines[-1].endswith(f"stopped listening on http://127.0.0.1:{live_server.port}")
    assert lines.index(start) < len(lines) - 1


def test_the_default_port_needs_no_hint(tmp_path: Path) -> None:
    assert _cli_hint(load_settings({}, tmp_path / ".env")) == ""
    assert "SERVER_URL=http://localhost:4000" in _cli_hint(
        load_settings({"PORT": "4000"}, tmp_path / ".env")
    )


def test_uvicorn_gets_the_limits_and_timeouts_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "HEADER_TIMEOUT": "3s",
            "BODY_TIMEOUT": "7s",
            "KEEP_ALIVE_TIMEOUT": "2s",
            "MAX_CONNECTIONS": "50",
        },
        tmp_path / ".env",
    )
    config = server_config(settings)
    assert config.http == "better_skills.server.connection:GuardedHttpToolsProtocol"
    assert config.timeout_keep_alive == 2
    assert config.limit_concurrency == 51
    limits = config.connection_limits  # type: ignore[attr-defined]
    assert (limits.header_timeout, limits.body_timeout, limits.max_connections) == (3, 7, 50)
    assert config.ws == "none" and config.access_log is False


def _open_files_limit(soft: int, hard: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return apply


def test_the_open_files_limit_is_raised_to_fit_max_connections(tmp_path: Path) -> None:
    """Past the open-files limit, idle sockets made real requests fail: the connection cap
    must bite first. The soft limit is raised to fit it when the hard limit allows."""
    port = free_port()
    process = subprocess.Popen(
        server_executable(),
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path),
            "PORT": str(port),
            "MAX_CONNECTIONS": "300",
        },
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_open_files_limit(256, 2048),
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "listening on" in line:
                break
        limits = Path(f"/proc/{process.pid}/limits").read_text()
        soft = next(row for row in limits.splitlines() if row.startswith("Max open files"))
        assert soft.split()[3] == str(300 + FILES_BESIDES_CONNECTIONS)
    finally:
        process.terminate()
        process.wait(30)


def test_a_too_low_hard_limit_is_a_warning_naming_max_connections(tmp_path: Path) -> None:
    with socket.socket() as taken:  # a busy port ends the run right after the check
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = subprocess.run(
            server_executable(),
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(tmp_path),
                "XDG_DATA_HOME": str(tmp_path),
                "PORT": str(taken.getsockname()[1]),
            },
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_open_files_limit(256, 512),
        )
    assert "the open-files limit (512) is too low for MAX_CONNECTIONS=1000" in result.stderr
    assert "lower MAX_CONNECTIONS to 384" in result.stderr
