"""``better-skills logout``: online, offline, and with nothing to do."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from better_skills.cli.commands.logout import LogoutOptions, run
from better_skills.protocol.device_flow import Paths
from tests.cli.conftest import Harness


def logout(harness: Harness, **options: object) -> int:
    return run(LogoutOptions(**options), harness.deps())  # type: ignore[arg-type]


def test_online_signs_out_and_deletes_the_file(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.valid_tokens.add("tok")
    assert logout(harness) == 0
    assert harness.server.paths() == [Paths.SIGN_OUT]
    assert harness.server.requests[0].headers["Authorization"] == "Bearer tok"
    assert harness.server.requests[0].content == b""
    assert "tok" not in harness.server.valid_tokens
    assert not harness.session_path.exists()
    assert "Signed out on http://testserver." in harness.err
    assert f"Deleted the session file {harness.session_path}." in harness.err


def test_offline_still_deletes_the_file_and_says_so(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.sign_out_response = httpx.ConnectError("[Errno 111] Connection refused")
    assert logout(harness) == 0
    assert not harness.session_path.exists()
    assert "Could not reach http://testserver to sign out" in harness.err
    assert "stays valid there until" in harness.err


def test_a_timeout_counts_as_offline(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.sign_out_response = httpx.ConnectTimeout("slow")
    assert logout(harness, as_json=True) == 0
    assert json.loads(harness.out)["serverSignOut"] == "unreachable"


def test_a_server_error_still_deletes_the_file(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.sign_out_response = httpx.Response(500, text="boom")
    assert logout(harness) == 0
    assert not harness.session_path.exists()
    assert "did not confirm the sign-out" in harness.err


def test_a_session_the_server_no_longer_knows(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.sign_out_response = httpx.Response(401, json={"error": "unauthorized"})
    assert logout(harness) == 0
    assert "already ended" in harness.err


def test_an_expired_session_needs_no_request(harness: Harness) -> None:
    harness.save_session("tok", hours=-1)
    assert logout(harness) == 0
    assert harness.server.requests == []
    assert not harness.session_path.exists()


def test_not_logged_in_is_nothing_to_do(harness: Harness) -> None:
    assert logout(harness) == 0
    assert "Not logged in" in harness.err
    assert "nothing to do" in harness.err
    assert harness.server.requests == []


def test_a_corrupt_file_is_removed(harness: Harness) -> None:
    harness.session_path.parent.mkdir(parents=True)
    harness.session_path.write_text("garbage")
    assert logout(harness) == 0
    assert not harness.session_path.exists()
    assert f"The session file {harness.session_path} is corrupt (not valid JSON); deleted it." in (
        harness.err
    )


def test_json(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.valid_tokens.add("tok")
    logout(harness, as_json=True)
    assert json.loads(harness.out) == {
        "server": "http://testserver",
        "serverSignOut": "signed_out",
        "sessionFile": str(harness.session_path),
        "sessionFileDeleted": True,
    }


def test_the_environment_token_is_warned_about(harness: Harness) -> None:
    harness.environ["BETTER_SKILLS_TOKEN"] = "ci"
    logout(harness)
    assert "BETTER_SKILLS_TOKEN is set and overrides the session file" in harness.err


def test_through_the_cli(harness: Harness, run_cli: Callable[..., int]) -> None:
    harness.save_session("tok")
    assert run_cli("logout") == 0
    assert run_cli("logout") == 0


# -- what the server said (issue 15 item 2) ------------------------------------------------


def test_an_already_ended_session_is_reported_as_such(harness: Harness) -> None:
    harness.save_session("revoked")  # the server does not know it: "signed_out": false
    assert logout(harness, as_json=True) == 0
    assert json.loads(harness.out)["serverSignOut"] == "already_invalid"
    assert "had already ended" in harness.err
    assert "Signed out" not in harness.err
    assert not harness.session_path.exists()


def test_a_foreign_answer_is_not_a_confirmed_sign_out(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.valid_tokens.add("tok")
    harness.server.sign_out_response = httpx.Response(200, json={"success": True})
    assert logout(harness, as_json=True) == 0
    assert json.loads(harness.out)["serverSignOut"] == "unconfirmed"
    assert "This server did not confirm the sign-out" in harness.err
    assert "Signed out" not in harness.err
    assert f"Deleted the session file {harness.session_path}" in harness.err
    assert not harness.session_path.exists()
