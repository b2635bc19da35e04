"""The root command: version, help, the exit-code table, and start-up import discipline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from better_skills import __version__
from better_skills.cli import main
from better_skills.cli.commands import whoami
from better_skills.client.errors import (
    ConfigError,
    NotAuthenticated,
    ServerUnreachable,
    SessionFileError,
    SessionStoreUnwritable,
)
from better_skills.protocol.errors import AccessDenied, ExpiredToken, InvalidGrant
from tests.cli.conftest import Harness


def test_version_fast_path(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"better-skills {__version__}\n"


def test_version_through_click(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.run(["-V", "whoami"]) == 0
    assert capsys.readouterr().out == f"better-skills {__version__}\n"


def test_help_lists_commands_environment_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.run(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("login", "logout", "whoami", "health"):
        assert f"  {name} " in out
    for setting in ("SERVER_URL", "BETTER_SKILLS_TOKEN", "XDG_CONFIG_HOME", "NO_COLOR"):
        assert setting in out
    for code in ("0 ", "1 ", "2 ", "4 ", "130 "):
        assert f"\n    {code}" in out


@pytest.mark.parametrize("command", ["login", "logout", "whoami", "health"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.run([command, "-h"]) == 0
    out = capsys.readouterr().out
    assert f"Usage: better-skills {command}" in out
    assert "--server URL" in out
    assert "Exit codes" in out


@pytest.mark.parametrize("command", ["validate", "init", "rewrite-links"])
def test_offline_commands_are_listed_and_have_help(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.run(["--help"]) == 0
    assert f"  {command} " in capsys.readouterr().out
    assert main.run([command, "-h"]) == 0
    out = capsys.readouterr().out
    assert f"Usage: better-skills {command}" in out
    assert "--json" in out
    assert "Works offline" in out
    assert "Exit codes" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.run(["nope"]) == 2
    assert main.run(["whoami", "--bogus"]) == 2
    assert main.run(["--server", "ftp://x", "whoami"]) == 2
    assert "Invalid server URL 'ftp://x' from --server" in capsys.readouterr().err


def test_a_bad_server_url_from_the_environment_exits_1(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    harness.environ["SERVER_URL"] = "localhost:3000"
    assert run_cli("health") == 1
    err = capsys.readouterr().err
    assert "from the SERVER_URL environment variable" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (KeyboardInterrupt(), 130),
        (click.UsageError("x"), 2),
        (NotAuthenticated(), 4),
        (SessionFileError(Path("/s.json"), "is corrupt"), 4),
        (ServerUnreachable("http://x", "connection refused"), 1),
        (SessionStoreUnwritable(Path("/s.json"), "Permission denied"), 1),
        (ConfigError("bad"), 1),
        (AccessDenied(), 1),
        (ExpiredToken(), 1),
        (InvalidGrant(), 1),
        (ValueError("a bug"), None),
    ],
)
def test_the_exit_code_table(error: BaseException, code: int | None) -> None:
    assert main.exit_code_for(error) == code


def test_ctrl_c_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(whoami, "run", interrupted)
    assert main.run(["whoami"]) == 130
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert captured.err.strip() == ""


def test_unwritable_session_folder_through_the_cli(
    harness: Harness,
    run_cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from better_skills.client.session_store import SessionStore

    blocker = tmp_path / "file"
    blocker.write_text("")
    harness.store = SessionStore(blocker / "better-skills" / "session.json")
    harness.server.token_steps = ["token"]
    assert run_cli("login", "--no-browser") == 1
    err = capsys.readouterr().err
    assert "Cannot write to" in err
    assert "Check the permissions" in err
    assert "XDG_CONFIG_HOME" in err
    assert "run better-skills as the user" in err
    assert "Traceback" not in err
    # The token that could not be saved is not left valid on the server.
    assert harness.server.tokens_issued == 1
    assert harness.server.valid_tokens == set()


def test_bugs_still_show_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> int:
        raise ValueError("a bug")

    monkeypatch.setattr(whoami, "run", broken)
    with pytest.raises(ValueError, match="a bug"):
        main.run(["whoami"])


HEAVY = (
    "httpx",
    "rich",
    "better_skills.server",
    "segno",
    "ssl",
    "webbrowser",
    # The skill format's parsers load only when a folder is really checked.
    "yaml",
    "skills_ref",
    "strictyaml",
)


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["login", "--help"],
        ["whoami", "--help"],
        ["validate", "--help"],
        ["init", "--help"],
        ["rewrite-links", "--help"],
    ],
)
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    """The start-up budget: ``python -X importtime`` must not list httpx, rich or the server."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "better_skills.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    heavy = sorted(name for name in imported if name.split(".")[0] in HEAVY or name in HEAVY)
    heavy += sorted(name for name in imported if name.startswith("better_skills.server"))
    assert heavy == []
    if args == ["--version"]:
        assert "click" not in imported
