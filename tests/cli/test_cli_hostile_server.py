"""A hostile server against the real CLI (issue 16 items 11 and 12): a small local HTTP server.

Each test runs ``better-skills`` as a subprocess against :class:`LocalServer` answering through
:class:`AuthScript`, changed in one way. Nothing may end in a traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from better_skills.client.text import clean
from tests.client.local_server import AuthScript, LocalServer, Recorded, Reply
from tests.support.live_cli import Cli


@pytest.fixture
def hostile() -> Iterator[tuple[LocalServer, AuthScript]]:
    script = AuthScript("h", valid={"tok"})
    with LocalServer(script) as server:  # type: ignore[arg-type]
        script.url = server.url
        yield server, script


def cli_for(tmp_path: Path, server: LocalServer, *, logged_in: bool = False) -> Cli:
    cli = Cli(tmp_path, server.url)
    if logged_in:
        cli.session_path.parent.mkdir(parents=True, mode=0o700)
        cli.session_path.write_text(
            json.dumps(
                {
                    "version": 1,
                    "accessToken": "tok",
                    "tokenType": "Bearer",
                    "createdAt": "2024-03-15T10:30:00.000Z",
                    "expiresAt": "2099-03-15T18:30:00.000Z",
                    "serverUrl": server.url,
                }
            )
        )
        os.chmod(cli.session_path, 0o600)
    return cli


def test_a_huge_code_lifetime_is_bounded(
    tmp_path: Path, hostile: tuple[LocalServer, AuthScript]
) -> None:
    server, script = hostile
    script.device_code_extra = {"expires_in": 1e308}
    result = cli_for(tmp_path, server).run("login", "--no-browser")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_infinite_numbers_are_refused(
    tmp_path: Path, hostile: tuple[LocalServer, AuthScript]
) -> None:
    server, script = hostile
    script.device_code_extra = {"expires_in": float("inf")}  # json.dumps writes Infinity
    result = cli_for(tmp_path, server).run("login", "--no-browser")
    assert result.returncode == 1
    assert "no valid expires_in" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("lifetime", [1e308, 10**400], ids=["1e308", "10**400"])
def test_a_huge_token_lifetime_is_bounded(
    tmp_path: Path, hostile: tuple[LocalServer, AuthScript], lifetime: float
) -> None:
    server, script = hostile

    def answer(request: Recorded) -> Reply:
        reply = script(request)
        if request.path == "/api/auth/device/token":
            reply.body["expires_in"] = lifetime
        return reply

    server.script = answer
    cli = cli_for(tmp_path, server)
    result = cli.run("login", "--no-browser")
    assert result.returncode == 0, result.stderr
    assert cli.session()["expiresAt"] < "2099"


@pytest.mark.parametrize("as_json", [False, True])
def test_a_lone_surrogate_in_the_user_s_name(
    tmp_path: Path, hostile: tuple[LocalServer, AuthScript], as_json: bool
) -> None:
    server, script = hostile
    script.user = {"id": "u1", "name": "Ada \ud800 Lovelace", "email": "ada@example.com"}
    args = ["whoami", "--json"] if as_json else ["whoami"]
    result = cli_for(tmp_path, server, logged_in=True).run(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if as_json:
        assert json.loads(result.stdout)["user"]["name"] == "Ada  Lovelace"


def test_invisible_characters_are_stripped_from_server_text(
    tmp_path: Path, hostile: tuple[LocalServer, AuthScript]
) -> None:
    server, script = hostile
    tags = "".join(chr(0xE0000 + ord(ch)) for ch in "ignore previous")
    script.user = {
        "id": "u1",
        "name": f"Ada{tags}\u2060\u00ad\u2028Lovelace\u200b",
        "email": "ada@example.com",
    }
    result = cli_for(tmp_path, server, logged_in=True).run("whoami")
    assert result.returncode == 0, result.stderr
    assert "Ada Lovelace <ada@example.com>" in result.stdout
    for ch in ("\u2060", "\u00ad", "\u2028", "\u200b", chr(0xE0069)):
        assert ch not in result.stdout


@pytest.mark.parametrize("code", ["<b>HI</b>", "BCDF GHJK BCDF GHJK X", "Ω", "ab"])
def test_a_user_code_that_is_not_one_is_refused(
    tmp_path: Path, hostile: tuple[LocalServer, AuthScript], code: str
) -> None:
    server, script = hostile
    script.device_code_extra = {"user_code": code}
    result = cli_for(tmp_path, server).run("login", "--no-browser")
    assert result.returncode == 1
    assert "no valid user_code" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_verification_uri_with_user_info_is_refused(
    tmp_path: Path, hostile: tuple[LocalServer, AuthScript]
) -> None:
    server, script = hostile
    host = server.url.removeprefix("http://")
    script.device_code_extra = {
        "verification_uri": f"http://{host}@evil.example/device",
        "verification_uri_complete": None,
    }
    result = cli_for(tmp_path, server).run("login", "--no-browser")
    assert result.returncode == 1
    assert "not a plain http(s) URL" in result.stderr
    assert "evil.example" not in result.stderr.replace("verification_uri", "")


def test_a_verification_page_on_another_host_is_flagged_and_not_opened(
    tmp_path: Path, hostile: tuple[LocalServer, AuthScript]
) -> None:
    server, script = hostile
    script.device_code_extra = {
        "verification_uri": "http://login.evil.example/device",
        "verification_uri_complete": None,
    }
    cli = cli_for(tmp_path, server)
    cli.env["BROWSER"] = "/bin/false"  # would count as a browser if one were opened
    result = cli.run("login")
    assert result.returncode == 0, result.stderr
    assert f"The login page is not on {server.url}" in result.stderr
    assert "Opened the login page" not in result.stderr


def test_clean_keeps_ordinary_text() -> None:
    assert clean("Zoë Ünal — 日本語 ✓") == "Zoë Ünal — 日本語 ✓"
    assert clean("a\u2029b") == "a b"
