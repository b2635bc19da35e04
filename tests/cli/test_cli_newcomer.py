"""What a newcomer meets (issue 15 items 6 and 7): --json errors, exit codes in help, wording."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
import pytest

from better_skills.cli import main
from tests.cli.conftest import Harness

Run = Callable[..., int]


# -- --json: every failure is a JSON error object on stdout --------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (["whoami", "--json"], 4, "not_authenticated"),
        (["logout", "--json", "--server", "http://other.example"], 4, "wrong_server"),
        (["login", "--json", "--no-browser"], 1, "access_denied"),
        (["health", "--json", "--server", "ftp://x"], 2, "usage"),
    ],
)
def test_every_command_prints_a_json_error_with_json(
    harness: Harness,
    run_cli: Run,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    kind: str,
) -> None:
    if args[0] == "logout":
        harness.save_session("tok")
    harness.server.token_steps = ["denied"]
    assert run_cli(*args) == code
    captured = capsys.readouterr()
    result = json.loads(captured.out + harness.out)
    assert result["error"] == kind
    assert result["exitCode"] == code
    assert result["message"]
    assert result["message"] in captured.err  # people still read the message on stderr


def test_login_json_when_the_server_is_down(
    harness: Harness, run_cli: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.server.device_code_response = httpx.ConnectError("[Errno 111] Connection refused")
    assert run_cli("login", "--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["error"], result["reachable"]) == ("server_unreachable", False)


# -- help lists only the exit codes each command can return ------------------------------------


def exit_codes_in_help(command: str, capsys: pytest.CaptureFixture[str]) -> set[int]:
    assert main.run([command, "--help"]) == 0
    help_text = capsys.readouterr().out
    section = help_text.split("Exit codes:", 1)[1]
    return {int(code) for code in re.findall(r"^\s+(\d+)\s", section, re.MULTILINE)}


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        ("health", {0, 1, 2, 130}),
        ("whoami", {0, 1, 2, 4, 130}),
        ("logout", {0, 1, 2, 4, 130}),
        ("login", {0, 1, 2, 4, 130}),
    ],
)
def test_help_lists_the_exit_codes_the_command_can_return(
    command: str, codes: set[int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_codes_in_help(command, capsys) == codes


def test_bare_better_skills_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.run([]) == 0
    out = capsys.readouterr().out
    assert "Usage: better-skills" in out
    assert "login" in out


# -- wording -----------------------------------------------------------------------------------


def test_an_empty_server_flag_is_a_usage_error(
    run_cli: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("whoami", "--server", "") == 2
    assert run_cli("--server", "", "health") == 2
    assert "Invalid server URL '' from --server" in capsys.readouterr().err


def test_login_with_the_server_down_says_so_first(
    harness: Harness, run_cli: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.save_session("tok")
    harness.server.valid_tokens.add("tok")
    down = httpx.ConnectError("[Errno 111] Connection refused")
    harness.server.get_session_response = harness.server.device_code_response = down
    assert run_cli("login", "--no-browser") == 1
    err = capsys.readouterr().err
    assert "Cannot reach the server" in err
    assert "Already logged in" not in err


def test_ctrl_c_during_login_says_login_cancelled(
    harness: Harness, run_cli: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    harness.clock.on_sleep = interrupt
    assert run_cli("login", "--no-browser") == 130
    assert "Login cancelled." in capsys.readouterr().err
    assert not harness.session_path.exists()


def test_a_server_url_with_a_path_gets_the_wrong_server_hint(
    harness: Harness, run_cli: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.server.health = httpx.Response(404, json={"error": "not_found"})
    assert run_cli("health", "--server", "http://testserver/api") == 1
    err = capsys.readouterr().err
    assert "Does http://testserver/api point at a better-skills server?" in err
    assert "try http://testserver (without /api)" in err
