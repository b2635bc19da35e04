"""A token goes only to the server that issued it (issue 15 item 1, issue 16 item 1).

Two real local HTTP servers: ``A`` issued the session, ``spy`` records every header it gets.
The real CLI runs as a subprocess with its own config folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.local_server import AuthScript, LocalServer
from tests.support.live_cli import Cli

TOKEN = "a-token-0"


@pytest.fixture
def issuer() -> Iterator[tuple[LocalServer, AuthScript]]:
    script = AuthScript("a", valid={TOKEN})
    with LocalServer(script) as server:  # type: ignore[arg-type]
        script.url = server.url
        yield server, script


@pytest.fixture
def spy() -> Iterator[tuple[LocalServer, AuthScript]]:
    script = AuthScript("spy")
    with LocalServer(script) as server:  # type: ignore[arg-type]
        script.url = server.url
        yield server, script


def write_session(cli: Cli, server: str | None) -> None:
    data = {
        "version": 1,
        "accessToken": TOKEN,
        "tokenType": "Bearer",
        "createdAt": "2024-03-15T10:30:00.000Z",
        "expiresAt": "2099-03-15T18:30:00.000Z",
    }
    if server is not None:
        data["serverUrl"] = server
    cli.session_path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    cli.session_path.write_text(json.dumps(data, indent=2))
    os.chmod(cli.session_path, 0o600)


def test_whoami_sends_no_token_to_another_server(
    tmp_path: Path, issuer: tuple[LocalServer, AuthScript], spy: tuple[LocalServer, AuthScript]
) -> None:
    a, _ = issuer
    s, _ = spy
    cli = Cli(tmp_path, a.url)
    write_session(cli, a.url)
    assert cli.run("whoami").returncode == 0
    assert AuthScript.tokens_seen(a) == [TOKEN]

    for args in (["whoami", "--server", s.url], ["--server", s.url, "whoami"]):
        result = cli.run(*args)
        assert result.returncode == 4, result.stderr
        assert f"You are logged in to {a.url}, not {s.url}" in result.stderr
        assert f"better-skills login --server {s.url}" in result.stderr
    assert s.requests == []


def test_a_dotenv_naming_another_server_gets_no_token(
    tmp_path: Path, issuer: tuple[LocalServer, AuthScript], spy: tuple[LocalServer, AuthScript]
) -> None:
    a, _ = issuer
    s, _ = spy
    cli = Cli(tmp_path, a.url)
    del cli.env["SERVER_URL"]
    (cli.cwd / ".git").mkdir()
    (cli.cwd / ".env").write_text(f"SERVER_URL={s.url}\n")
    write_session(cli, a.url)
    result = cli.run("whoami")
    assert result.returncode == 4
    assert f"not {s.url}" in result.stderr
    assert cli.run("logout").returncode == 4
    assert cli.session_path.exists()  # kept for a logout at its own server
    assert AuthScript.tokens_seen(s) == []


def test_the_environment_token_is_not_sent_to_a_server_named_only_by_dotenv(
    tmp_path: Path, spy: tuple[LocalServer, AuthScript]
) -> None:
    s, script = spy
    script.valid.add("env-token")
    cli = Cli(tmp_path, s.url)
    del cli.env["SERVER_URL"]
    (cli.cwd / ".git").mkdir()
    (cli.cwd / ".env").write_text(f"SERVER_URL={s.url}\n")
    cli.env["BETTER_SKILLS_TOKEN"] = "env-token"
    result = cli.run("whoami")
    assert result.returncode == 4
    assert "is named only by SERVER_URL in" in result.stderr
    assert AuthScript.tokens_seen(s) == []
    # Named in the environment (or by --server), the user chose it: the token goes there.
    assert cli.run("whoami", "--server", s.url).returncode == 0
    assert AuthScript.tokens_seen(s) == ["env-token"]


def test_a_file_of_the_original_cli_is_bound_to_the_first_server_that_accepts_it(
    tmp_path: Path, issuer: tuple[LocalServer, AuthScript], spy: tuple[LocalServer, AuthScript]
) -> None:
    a, _ = issuer
    s, _ = spy
    cli = Cli(tmp_path, a.url)
    write_session(cli, None)
    assert cli.run("whoami").returncode == 0
    assert cli.session()["serverUrl"] == a.url
    assert list(cli.session())[:5] == [
        "version",
        "accessToken",
        "tokenType",
        "createdAt",
        "expiresAt",
    ]
    assert cli.run("whoami", "--server", s.url).returncode == 4
    assert s.requests == []


def test_a_server_that_refuses_an_unbound_token_does_not_get_it_bound(
    tmp_path: Path, spy: tuple[LocalServer, AuthScript]
) -> None:
    s, _ = spy
    cli = Cli(tmp_path, s.url)
    write_session(cli, None)
    assert cli.run("whoami").returncode == 4  # the spy does not know the token
    assert "serverUrl" not in cli.session()


def test_login_force_on_a_new_server_signs_the_old_token_out_only_at_its_issuer(
    tmp_path: Path, issuer: tuple[LocalServer, AuthScript], spy: tuple[LocalServer, AuthScript]
) -> None:
    a, a_script = issuer
    s, _ = spy
    cli = Cli(tmp_path, a.url)
    write_session(cli, a.url)
    result = cli.run("login", "--no-browser", "--force", "--server", s.url)
    assert result.returncode == 0, result.stderr
    assert cli.session()["accessToken"] == "spy-token-1"
    assert cli.session()["serverUrl"] == s.url
    assert TOKEN not in AuthScript.tokens_seen(s)
    assert [r.path for r in a.requests] == ["/api/auth/sign-out"]
    assert TOKEN not in a_script.valid  # ended at its issuer


def test_login_on_a_new_server_with_an_original_file_sends_the_old_token_nowhere(
    tmp_path: Path, spy: tuple[LocalServer, AuthScript]
) -> None:
    s, _ = spy
    cli = Cli(tmp_path, s.url)
    write_session(cli, None)
    result = cli.run("login", "--no-browser", "--force")
    assert result.returncode == 0, result.stderr
    assert TOKEN not in AuthScript.tokens_seen(s)
