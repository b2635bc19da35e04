"""What every command shares: the credential resolver, the API factory, module layering."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from better_skills.cli import commands
from better_skills.client.errors import NotAuthenticated, SessionFileError
from better_skills.protocol import wire
from tests.cli.conftest import Harness


def test_credentials_prefer_the_environment(harness: Harness) -> None:
    harness.save_session("file-token")
    harness.environ["BETTER_SKILLS_TOKEN"] = "env-token"
    deps = harness.deps()
    credential = deps.credentials(deps.resolve_server(None))
    assert (credential.token, credential.source, credential.stored) == (
        "env-token",
        "environment",
        None,
    )


def test_credentials_from_the_session_file(harness: Harness) -> None:
    saved = harness.save_session("file-token")
    deps = harness.deps()
    credential = deps.credentials(deps.resolve_server(None))
    assert (credential.token, credential.source) == ("file-token", "session_file")
    assert credential.stored == saved


def test_credentials_missing_expired_or_damaged(harness: Harness) -> None:
    deps = harness.deps()
    server = deps.resolve_server(None)
    with pytest.raises(NotAuthenticated, match="no session file"):
        deps.credentials(server)
    harness.save_session("tok", hours=1)
    harness.clock.t += 7200
    with pytest.raises(NotAuthenticated, match="expired 1 hour ago"):
        deps.credentials(server)
    harness.session_path.write_text("{")
    with pytest.raises(SessionFileError):
        deps.credentials(server)
    assert harness.server.requests == []  # all known locally


def test_an_api_client_sends_the_resolved_credential(harness: Harness) -> None:
    harness.save_session("tok")
    harness.server.valid_tokens.add("tok")
    deps = harness.deps()
    server = deps.resolve_server(None)
    with deps.api(server, deps.credentials(server)) as api:
        data = api.request_json("GET", "/api/auth/get-session", auth=True)
    assert data["user"]["email"] == "ada@example.com"
    assert harness.server.requests[0].headers["Authorization"] == "Bearer tok"


def test_command_modules_do_not_import_the_root_module() -> None:
    """``main`` loads commands by name; a command importing ``main`` back is a hidden cycle."""
    offenders = []
    for path in Path(commands.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "better_skills.cli.main":
                offenders.append(path.name)
    assert offenders == []


def test_the_server_uses_the_protocol_s_wire_time_format() -> None:
    from better_skills.server import timefmt

    assert timefmt.iso_ms is wire.iso_ms
    moment = datetime(2024, 3, 15, 10, 30, 0, 123000, tzinfo=UTC)
    epoch_ms = int(moment.timestamp() * 1000)
    assert wire.iso_ms(epoch_ms) == wire.format_timestamp(moment) == "2024-03-15T10:30:00.123Z"
    assert wire.iso_ms(999) == "1970-01-01T00:00:00.999Z"


def test_one_token_rule() -> None:
    assert wire.is_header_safe("abc.DEF_123-~")
    assert not wire.is_header_safe("")
    assert not wire.is_header_safe("two words")
    assert not wire.is_header_safe("é")
    assert not wire.is_header_safe("x" * 4097)
    assert wire.is_token_type("Bearer")
    assert not wire.is_token_type("Bearer x")
