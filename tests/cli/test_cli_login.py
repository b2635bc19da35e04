"""``better-skills login`` with a scripted server, a fake clock and a stub browser."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable

import httpx
import pytest

from better_skills.cli.commands.login import LoginOptions, run
from better_skills.client.errors import ServerUnreachable
from better_skills.protocol.device_flow import Paths
from better_skills.protocol.errors import AccessDenied, ExpiredToken
from tests.cli.conftest import Harness

URL = "http://testserver/device"
COMPLETE = "http://testserver/device?user_code=BCDFGHJK"


def login(harness: Harness, **options: object) -> int:
    return run(LoginOptions(**options), harness.deps())  # type: ignore[arg-type]


def test_approved_login_saves_the_session_and_says_who(harness: Harness) -> None:
    harness.server.token_steps = ["pending", "token"]
    assert login(harness) == 0
    saved = json.loads(harness.session_path.read_text())
    assert saved["accessToken"] == "token-1"
    assert saved["tokenType"] == "Bearer"
    # created when the token arrived (two 5 s waits after the start), valid for expires_in
    assert saved["createdAt"] == "2024-03-15T10:30:10.000Z"
    assert saved["expiresAt"] == "2024-03-15T18:30:10.000Z"
    assert stat.S_IMODE(os.stat(harness.session_path).st_mode) == 0o600
    assert "Logged in as Ada Lovelace <ada@example.com> on http://testserver" in harness.err
    assert str(harness.session_path) in harness.err
    assert harness.out == ""


def test_the_url_and_code_are_printed_before_polling_starts(harness: Harness) -> None:
    harness.server.token_steps = ["token"]
    seen_before_first_wait: list[str] = []
    harness.clock.on_sleep = lambda _s: seen_before_first_wait.append(harness.err)
    login(harness, no_browser=True)
    first = seen_before_first_wait[0]
    assert "BCDF-GHJK" in first
    assert URL in first
    assert COMPLETE in first
    assert first.index("BCDF-GHJK") < first.index("Waiting for approval")


def test_the_browser_opens_the_complete_url(harness: Harness) -> None:
    harness.server.token_steps = ["token"]
    login(harness)
    assert harness.browser.opened == [COMPLETE]
    assert "Opened the login page" in harness.err


def test_no_browser_opens_nothing(harness: Harness) -> None:
    harness.server.token_steps = ["token"]
    login(harness, no_browser=True)
    assert harness.browser.opened == []


def test_without_a_display_it_says_so_and_keeps_waiting(harness: Harness) -> None:
    harness.browser.reason = "this is an SSH session"
    harness.server.token_steps = ["pending", "token"]
    assert login(harness) == 0
    assert harness.browser.opened == []
    assert "Not opening a browser: this is an SSH session" in harness.err


def test_a_browser_that_fails_to_open_is_not_fatal(harness: Harness) -> None:
    harness.browser.result = False
    harness.server.token_steps = ["token"]
    assert login(harness) == 0
    assert "Could not open a browser" in harness.err


def test_json_puts_only_the_result_on_stdout(harness: Harness) -> None:
    harness.server.token_steps = ["token"]
    login(harness, as_json=True, no_browser=True)
    result = json.loads(harness.out)
    assert result == {
        "status": "logged_in",
        "server": "http://testserver",
        "user": {"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com"},
        "sessionFile": str(harness.session_path),
        "createdAt": "2024-03-15T10:30:05.000Z",
        "expiresAt": "2024-03-15T18:30:05.000Z",
    }
    assert "BCDF-GHJK" in harness.err


def test_denied(harness: Harness) -> None:
    harness.server.token_steps = ["pending", "denied"]
    with pytest.raises(AccessDenied):
        login(harness)
    assert not harness.session_path.exists()


def test_expired(harness: Harness) -> None:
    harness.server.token_steps = ["expired"]
    with pytest.raises(ExpiredToken):
        login(harness)
    assert not harness.session_path.exists()


def test_the_code_lifetime_running_out(harness: Harness) -> None:
    harness.server.expires_in = 7
    with pytest.raises(ExpiredToken):
        login(harness)
    assert harness.clock.sleeps == [5, 2]


def test_interrupt_writes_nothing(harness: Harness) -> None:
    def interrupt(_seconds: float) -> None:
        if len(harness.clock.sleeps) == 2:
            raise KeyboardInterrupt

    harness.clock.on_sleep = interrupt
    with pytest.raises(KeyboardInterrupt):
        login(harness)
    assert not harness.session_path.parent.exists()
    assert harness.out == ""


def test_status_lines_without_a_terminal(harness: Harness) -> None:
    error = httpx.ConnectError("[Errno 111] Connection refused")
    harness.server.token_steps = ["pending", "slow_down", error, "pending", "token"]
    login(harness, no_browser=True)
    lines = [line for line in harness.err.splitlines() if "expires in" in line]
    assert lines == [
        "Waiting for approval in the browser… code expires in 30:00",
        "Waiting for approval in the browser (server asked to slow down, polling every 10 s)"
        " · code expires in 29:50",
        "Cannot reach the server (connection refused); retrying in 0:20 · code expires in 29:40",
        "Waiting for approval in the browser… code expires in 29:20",
    ]


def test_a_spinner_on_a_terminal(harness: Harness) -> None:
    from tests.cli.conftest import TTYStringIO

    harness.stderr = TTYStringIO()
    harness.server.token_steps = ["token"]
    harness.clock.on_sleep = lambda _s: time.sleep(0.25)  # let the spinner draw a few frames
    login(harness, no_browser=True)
    spinner, _, after = harness.err.rpartition("\r\x1b[2K")
    assert "Waiting for approval" in spinner
    assert "Logged in" in after.splitlines()[0]  # the line is cleared before the result
    assert "\x1b[32m✓" in after  # colour on a terminal


def test_no_color_keeps_the_spinner_but_drops_colour(harness: Harness) -> None:
    from tests.cli.conftest import TTYStringIO

    harness.stderr = TTYStringIO()
    harness.environ["NO_COLOR"] = "1"
    harness.server.token_steps = ["token"]
    harness.clock.on_sleep = lambda _s: time.sleep(0.25)
    login(harness, no_browser=True)
    assert "\r\x1b[2K" in harness.err
    assert "\x1b[3" not in harness.err and "\x1b[1m" not in harness.err


def test_qr_code(harness: Harness) -> None:
    harness.server.token_steps = ["token"]
    login(harness, qr=True, no_browser=True)
    assert "▀" in harness.err or "█" in harness.err
    assert "Scan the QR code" in harness.err


def test_the_server_being_down_fails_before_anything_is_shown(harness: Harness) -> None:
    harness.server.device_code_response = httpx.ConnectError("[Errno 111] Connection refused")
    with pytest.raises(ServerUnreachable):
        login(harness)
    assert "code" not in harness.err.lower()


# -- an existing session -------------------------------------------------------------------


def test_without_a_terminal_it_replaces_a_valid_session_without_asking(harness: Harness) -> None:
    harness.save_session("old-token")
    harness.server.valid_tokens.add("old-token")
    harness.server.token_steps = ["token"]
    assert login(harness) == 0
    assert "Already logged in as Ada Lovelace <ada@example.com>" in harness.err
    assert json.loads(harness.session_path.read_text())["accessToken"] == "token-1"
    # the replaced session is ended on the server
    sign_out = [r for r in harness.server.requests if r.url.path == Paths.SIGN_OUT]
    assert [r.headers["Authorization"] for r in sign_out] == ["Bearer old-token"]


def test_on_a_terminal_it_asks_and_no_keeps_the_session(harness: Harness) -> None:
    harness.interactive = True
    harness.stdin_text = "n\n"
    harness.save_session("old-token")
    harness.server.valid_tokens.add("old-token")
    assert login(harness) == 0
    assert "You are already logged in as Ada Lovelace" in harness.err
    assert "Kept your current session." in harness.err
    assert Paths.DEVICE_CODE not in harness.server.paths()
    assert json.loads(harness.session_path.read_text())["accessToken"] == "old-token"


def test_on_a_terminal_yes_replaces(harness: Harness) -> None:
    harness.interactive = True
    harness.stdin_text = "y\n"
    harness.save_session("old-token")
    harness.server.valid_tokens.add("old-token")
    harness.server.token_steps = ["token"]
    assert login(harness) == 0
    assert json.loads(harness.session_path.read_text())["accessToken"] == "token-1"


def test_force_skips_the_question(harness: Harness) -> None:
    harness.interactive = True
    harness.save_session("old-token")
    harness.server.valid_tokens.add("old-token")
    harness.server.token_steps = ["token"]
    assert login(harness, force=True) == 0
    assert "already logged in" not in harness.err.lower()
    assert Paths.GET_SESSION not in harness.server.paths()[:1]


def test_a_session_the_server_rejects_is_not_worth_asking_about(harness: Harness) -> None:
    harness.interactive = True
    harness.save_session("dead-token")
    harness.server.token_steps = ["token"]
    assert login(harness) == 0
    assert "already logged in" not in harness.err.lower()


def test_an_expired_session_is_replaced_silently(harness: Harness) -> None:
    harness.interactive = True
    harness.save_session("old", hours=-1)
    harness.server.token_steps = ["token"]
    assert login(harness) == 0
    assert Paths.GET_SESSION in harness.server.paths()  # only for the new token
    assert "already logged in" not in harness.err.lower()


def test_a_corrupt_session_file_is_replaced(harness: Harness) -> None:
    harness.session_path.parent.mkdir(parents=True)
    harness.session_path.write_text("{trunc")
    harness.server.token_steps = ["token"]
    assert login(harness) == 0
    assert "is corrupt (not valid JSON)" in harness.err
    assert json.loads(harness.session_path.read_text())["accessToken"] == "token-1"


def test_the_environment_token_is_warned_about(harness: Harness) -> None:
    harness.environ["BETTER_SKILLS_TOKEN"] = "ci-token"
    harness.server.token_steps = ["token"]
    login(harness)
    assert "BETTER_SKILLS_TOKEN is set: it overrides the session file" in harness.err


# -- through the command line --------------------------------------------------------------


def test_exit_codes_through_the_cli(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    harness.server.token_steps = ["denied"]
    assert run_cli("login", "--no-browser") == 1
    assert "Login was denied in the browser." in capsys.readouterr().err

    harness.server.token_steps = ["expired"]
    assert run_cli("login", "--no-browser") == 1
    assert "Login code expired. Run `better-skills login` again." in capsys.readouterr().err

    harness.server.token_steps = ["token"]
    assert run_cli("login", "--no-browser") == 0


def test_interrupt_through_the_cli_exits_130(harness: Harness, run_cli: Callable[..., int]) -> None:
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    harness.clock.on_sleep = interrupt
    assert run_cli("login", "--no-browser") == 130
    assert not harness.session_path.exists()


def test_unreachable_server_through_the_cli(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    harness.server.device_code_response = httpx.ConnectError("[Errno 111] Connection refused")
    assert run_cli("login") == 1
    err = capsys.readouterr().err
    assert "Cannot reach the server at http://testserver (connection refused)" in err
    assert "Check your SERVER_URL environment variable" in err
    assert "Verify the server is running" in err
    assert "Check network connectivity" in err


# -- the machine's name (issue 15 item 8) --------------------------------------------------


def test_the_device_request_carries_the_machine_s_host_name(harness: Harness) -> None:
    import socket

    harness.server.token_steps = ["token"]
    assert login(harness) == 0
    body = json.loads(harness.server.requests[0].content)
    assert body["hostname"] == socket.gethostname()


def test_a_server_that_does_not_know_the_host_name_field_is_asked_without_it(
    harness: Harness,
) -> None:
    harness.server.refuse_unknown_fields = True
    harness.server.token_steps = ["token"]
    assert login(harness) == 0
    bodies = [
        json.loads(r.content) for r in harness.server.requests if r.url.path == Paths.DEVICE_CODE
    ]
    assert "hostname" in bodies[0]
    assert "hostname" not in bodies[1]
    assert len(bodies) == 2


def test_an_odd_host_name_is_not_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from better_skills.cli.commands.login import machine_name

    monkeypatch.setattr(socket, "gethostname", lambda: "evil\x1b[2Jhost")
    assert machine_name() is None
    monkeypatch.setattr(socket, "gethostname", lambda: "ada-laptop.local")
    assert machine_name() == "ada-laptop.local"
