"""``better-skills whoami``."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from better_skills.cli.commands.whoami import WhoamiOptions, run
from better_skills.client.errors import NotAuthenticated, SessionFileError
from better_skills.protocol.device_flow import Paths
from tests.cli.conftest import Harness


def whoami(harness: Harness, **options: object) -> int:
    return run(WhoamiOptions(**options), harness.deps())  # type: ignore[arg-type]


def test_shows_user_server_and_session_times(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.valid_tokens.add("tok")
    harness.clock.t += 3600  # one hour into the session
    assert whoami(harness) == 0
    out = harness.out
    assert "Ada Lovelace <ada@example.com>" in out
    assert "http://testserver" in out
    assert str(harness.session_path) in out
    assert "(1 hour ago)" in out
    assert "(in 7 hours)" in out
    assert harness.server.requests[0].headers["Authorization"] == "Bearer tok"


def test_json(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.valid_tokens.add("tok")
    whoami(harness, as_json=True)
    assert json.loads(harness.out) == {
        "user": {"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com"},
        "server": "http://testserver",
        "tokenSource": "session_file",
        "sessionFile": str(harness.session_path),
        "createdAt": "2024-03-15T10:30:00.000Z",
        "expiresAt": "2024-03-15T18:30:00.000Z",
    }


def test_no_session(harness: Harness) -> None:
    with pytest.raises(NotAuthenticated, match="Not logged in") as caught:
        whoami(harness)
    assert "no session file" in caught.value.message
    assert "invalid or expired" not in caught.value.message
    assert harness.server.requests == []


def test_an_expired_session_is_known_without_a_request(harness: Harness) -> None:
    harness.save_session("tok", hours=1)
    harness.server.valid_tokens.add("tok")
    harness.clock.t += 2 * 3600
    with pytest.raises(NotAuthenticated, match="expired 1 hour ago"):
        whoami(harness)
    assert harness.server.requests == []


def test_a_session_the_server_rejects(harness: Harness) -> None:
    harness.save_session("revoked")
    with pytest.raises(NotAuthenticated, match="does not accept the session"):
        whoami(harness)
    assert harness.server.paths() == [Paths.GET_SESSION]


def test_a_corrupt_file(harness: Harness) -> None:
    harness.session_path.parent.mkdir(parents=True)
    harness.session_path.write_text('{"version": 7}')
    with pytest.raises(SessionFileError, match="version 7"):
        whoami(harness)


def test_the_environment_token_wins(harness: Harness) -> None:
    harness.save_session("file-token")
    harness.environ["BETTER_SKILLS_TOKEN"] = "env-token"
    harness.server.valid_tokens.add("env-token")
    whoami(harness)
    assert harness.server.requests[0].headers["Authorization"] == "Bearer env-token"
    assert "from BETTER_SKILLS_TOKEN environment variable" in harness.out


def test_a_rejected_environment_token_says_so(harness: Harness) -> None:
    harness.environ["BETTER_SKILLS_TOKEN"] = "env-token"
    with pytest.raises(NotAuthenticated, match="BETTER_SKILLS_TOKEN"):
        whoami(harness)


def test_hostile_names_cannot_reach_the_terminal(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.valid_tokens.add("tok")
    harness.server.user = {
        "id": "u1",
        "name": "Mallory\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\u202e",
        "email": "m@x.example\r\n",
    }
    whoami(harness)
    assert "\x1b" not in harness.out
    assert "\u202e" not in harness.out
    assert "Mallory <m@x.example>" in harness.out


def test_exit_code_4_through_the_cli(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("whoami") == 4
    err = capsys.readouterr().err
    assert "Not logged in" in err
    assert "Run `better-skills login`" in err

    harness.session_path.parent.mkdir(parents=True)
    harness.session_path.write_text("{")
    assert run_cli("whoami") == 4
    err = capsys.readouterr().err
    assert "is corrupt (not valid JSON)" in err
    assert "Traceback" not in err
