"""The real ``better-skills`` executable against a real server process: login, whoami, logout.

The approval is done over HTTP by a signed-in web user, exactly as the approval page does it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.live_cli import Cli, LoginProcess, unique_email
from tests.support.live_server import BrowserUser, LiveServer

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def server(request: pytest.FixtureRequest, backend: str) -> LiveServer:
    """The server process on ``backend`` the test shares with others, or one of its own for a
    test marked ``own_server`` (it stops the server)."""
    if request.node.get_closest_marker("own_server"):
        return request.getfixturevalue("live_server")
    return request.getfixturevalue("shared_server")


@pytest.fixture
def cli(tmp_path: Path, server: LiveServer) -> Cli:
    return Cli(tmp_path, server.url)


@pytest.fixture
def person(server: LiveServer) -> Iterator[BrowserUser]:
    user = server.browser()
    user.sign_up("Ada Lovelace", unique_email(), "correct horse battery staple")
    yield user
    user.close()


@pytest.fixture
def start_login(cli: Cli) -> Iterator[Callable[..., LoginProcess]]:
    started: list[LoginProcess] = []

    def start(*args: str) -> LoginProcess:
        process = cli.start_login(*args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def log_in(start_login: Callable[..., LoginProcess], person: BrowserUser) -> None:
    login = start_login()
    person.approve(login.user_code())
    code, _, stderr = login.wait()
    assert code == 0, stderr


def test_login_approved_in_the_browser(
    cli: Cli, server: LiveServer, person: BrowserUser, start_login: Callable[..., LoginProcess]
) -> None:
    login = start_login("--json")
    user_code = login.user_code()
    assert f"{server.url}/device" in login.stderr  # the URL is shown with the code
    person.approve(user_code)
    code, stdout, stderr = login.wait()
    assert code == 0, stderr
    email = person.user["email"]
    assert f"Logged in as Ada Lovelace <{email}>" in stderr
    result = json.loads(stdout)
    assert result["status"] == "logged_in"
    assert result["user"]["email"] == email
    assert result["server"] == server.url

    session = cli.session()
    # The original CLI's five fields, then the server the token belongs to (issue 15 item 1).
    assert list(session) == [
        "version",
        "accessToken",
        "tokenType",
        "createdAt",
        "expiresAt",
        "serverUrl",
    ]
    assert session["serverUrl"] == server.url
    assert session["version"] == 1
    assert session["tokenType"] == "Bearer"
    assert ISO_MS_Z.match(session["createdAt"])
    assert ISO_MS_Z.match(session["expiresAt"])
    assert stat.S_IMODE(os.stat(cli.session_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cli.session_path.parent).st_mode) == 0o700


def test_login_denied_in_the_browser(
    cli: Cli, person: BrowserUser, start_login: Callable[..., LoginProcess]
) -> None:
    login = start_login()
    person.deny(login.user_code())
    code, stdout, stderr = login.wait()
    assert code == 1
    assert "Login was denied in the browser." in stderr
    assert stdout == ""
    assert not cli.session_path.exists()


def test_login_code_expires(tmp_path: Path, server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(DEVICE_CODE_TTL="3", POLL_INTERVAL="1")
    cli = Cli(tmp_path, server.url)
    login = cli.start_login()
    try:
        login.user_code()
        code, _, stderr = login.wait(timeout=30)
    finally:
        login.kill()
    assert code == 1
    assert "Login code expired. Run `better-skills login` again." in stderr
    assert "Traceback" not in stderr
    assert not cli.session_path.exists()


def test_ctrl_c_while_waiting_exits_130_and_writes_nothing(
    cli: Cli, start_login: Callable[..., LoginProcess]
) -> None:
    login = start_login()
    login.user_code()
    time.sleep(0.5)
    login.process.send_signal(signal.SIGINT)
    code, stdout, stderr = login.wait()
    assert code == 130
    assert stdout == ""
    assert "Traceback" not in stderr
    assert not cli.session_path.exists()


def test_whoami_after_login(
    cli: Cli, server: LiveServer, person: BrowserUser, start_login: Callable[..., LoginProcess]
) -> None:
    log_in(start_login, person)
    result = cli.run("whoami")
    assert result.returncode == 0, result.stderr
    assert f"Ada Lovelace <{person.user['email']}>" in result.stdout
    assert server.url in result.stdout
    assert "in 8 hours" in result.stdout

    as_json = json.loads(cli.run("whoami", "--json").stdout)
    assert as_json["user"]["name"] == "Ada Lovelace"
    assert as_json["tokenSource"] == "session_file"
    assert ISO_MS_Z.match(as_json["expiresAt"])


def test_whoami_without_a_session_exits_4(cli: Cli) -> None:
    result = cli.run("whoami")
    assert result.returncode == 4
    assert "Not logged in" in result.stderr
    assert "better-skills login" in result.stderr


def test_whoami_with_a_token_from_the_environment(
    cli: Cli, person: BrowserUser, start_login: Callable[..., LoginProcess]
) -> None:
    log_in(start_login, person)
    token = cli.session()["accessToken"]
    cli.session_path.unlink()
    cli.env["BETTER_SKILLS_TOKEN"] = token
    result = cli.run("whoami")
    assert result.returncode == 0, result.stderr
    assert "BETTER_SKILLS_TOKEN" in result.stdout


def test_logout_online_ends_the_session_on_the_server(
    cli: Cli, server: LiveServer, person: BrowserUser, start_login: Callable[..., LoginProcess]
) -> None:
    log_in(start_login, person)
    token = cli.session()["accessToken"]
    result = cli.run("logout")
    assert result.returncode == 0, result.stderr
    assert f"Signed out on {server.url}" in result.stderr
    assert "Deleted the session file" in result.stderr
    assert not cli.session_path.exists()
    # The token is dead on the server, so it cannot be used again, even from the environment.
    cli.env["BETTER_SKILLS_TOKEN"] = token
    assert cli.run("whoami").returncode == 4


@pytest.mark.own_server
def test_logout_offline_still_deletes_the_session(
    cli: Cli, server: LiveServer, person: BrowserUser, start_login: Callable[..., LoginProcess]
) -> None:
    log_in(start_login, person)
    server.stop()
    started = time.monotonic()
    result = cli.run("logout")
    assert time.monotonic() - started < 10
    assert result.returncode == 0, result.stderr
    assert "Could not reach" in result.stderr
    assert not cli.session_path.exists()


def test_logout_when_not_logged_in(cli: Cli) -> None:
    result = cli.run("logout")
    assert result.returncode == 0
    assert "Not logged in" in result.stderr


@pytest.mark.own_server
def test_a_session_survives_a_server_restart(
    cli: Cli, server: LiveServer, person: BrowserUser, start_login: Callable[..., LoginProcess]
) -> None:
    log_in(start_login, person)
    server.stop()
    assert cli.run("whoami").returncode == 1  # unreachable is an error, not "logged out"
    server.start()
    assert cli.run("whoami").returncode == 0


def test_a_personal_access_token_logs_in_and_survives_logout(cli: Cli, server: LiveServer) -> None:
    """`login --with-token` with a real access token; `logout` says the token stays valid (the
    server never ends an access token on sign-out) instead of "had already ended"."""
    import subprocess

    import httpx

    from tests.support.live_cli import executable

    with httpx.Client(base_url=server.url) as http:
        signed_up = http.post(
            "/api/auth/sign-up/email",
            json={"name": "Ada", "email": unique_email("pat"), "password": "correct horse battery"},
        )
        assert signed_up.status_code == 200, signed_up.text
        browser_token = signed_up.json()["token"]
        made = http.post(
            "/api/v1/tokens",
            json={"name": "ci", "expires_in_days": 30},
            headers={"Authorization": f"Bearer {browser_token}"},
        )
        assert made.status_code == 201, made.text
        token = made.json()["token"]
    login = subprocess.run(
        [*executable(), "login", "--with-token"],
        env=cli.env,
        cwd=cli.cwd,
        input=token + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    assert cli.run("whoami").returncode == 0
    logout = cli.run("logout")
    assert logout.returncode == 0, logout.stderr
    assert "personal access token stays valid" in logout.stderr + logout.stdout
    assert "already ended" not in logout.stderr + logout.stdout
    # It does: the token still answers.
    cli.env["BETTER_SKILLS_TOKEN"] = token
    assert cli.run("whoami").returncode == 0
