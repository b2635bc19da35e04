"""``better-skills login --with-token``: a personal access token from standard input."""

from __future__ import annotations

import json
from collections.abc import Callable

import click
import pytest

from better_skills.cli.commands.login import LoginOptions, run
from better_skills.client.errors import NotAuthenticated
from better_skills.protocol.device_flow import Paths
from tests.cli.conftest import Harness
from tests.client.fakes import BASE_URL


def login(harness: Harness, **options: object) -> int:
    return run(LoginOptions(with_token=True, **options), harness.deps())  # type: ignore[arg-type]


def test_a_token_is_checked_then_saved_as_the_session(harness: Harness) -> None:
    harness.stdin_text = "pat-123\n"
    harness.server.valid_tokens.add("pat-123")
    assert login(harness) == 0
    data = json.loads(harness.session_path.read_text())
    assert data["accessToken"] == "pat-123"
    assert data["serverUrl"] == BASE_URL
    assert data["expiresAt"] == "2024-03-15T18:30:00.000Z"  # the server's word
    assert harness.server.paths() == [Paths.GET_SESSION]  # no device flow
    assert harness.server.requests[0].headers["Authorization"] == "Bearer pat-123"
    assert "Logged in as Ada Lovelace <ada@example.com>" in harness.err


def test_a_refused_token_is_not_saved(harness: Harness) -> None:
    harness.stdin_text = "wrong\n"
    with pytest.raises(NotAuthenticated, match="does not accept the token from standard input"):
        login(harness)
    assert not harness.session_path.exists()


@pytest.mark.parametrize("text", ["", "  \n", "two words\n", "é\n", "x" * 9000])
def test_no_token_on_standard_input_is_a_usage_error(harness: Harness, text: str) -> None:
    harness.stdin_text = text
    with pytest.raises(click.UsageError):
        login(harness)
    assert harness.server.requests == []


def test_the_replaced_session_is_signed_out_at_its_server(harness: Harness) -> None:
    harness.save_session("old-token")
    harness.server.valid_tokens.update({"old-token", "pat-123"})
    harness.stdin_text = "pat-123"
    assert login(harness, as_json=True) == 0
    assert "old-token" not in harness.server.valid_tokens
    assert json.loads(harness.out)["status"] == "logged_in"


def test_through_the_cli(harness: Harness, run_cli: Callable[..., int]) -> None:
    harness.stdin_text = "pat-123\n"
    harness.server.valid_tokens.add("pat-123")
    assert run_cli("login", "--with-token") == 0
    harness.stdin_text = "nope\n"
    assert run_cli("login", "--with-token") == 4
    harness.stdin_text = ""
    assert run_cli("login", "--with-token") == 2
