"""``SKILL`` arguments: a UUID, ``vault/slug`` or a bare slug; and 409 candidates."""

from __future__ import annotations

import pytest

from better_skills.client.vault import (
    Identifier,
    InvalidIdentifier,
    candidates_of,
    parse_identifier,
)

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (UUID, Identifier(id=UUID)),
        (UUID.upper(), Identifier(id=UUID)),
        (f"  {UUID} ", Identifier(id=UUID)),
        ("deploy", Identifier(slug="deploy")),
        ("Deploy", Identifier(slug="deploy")),
        ("personal/deploy", Identifier(vault="personal", slug="deploy")),
        ("system-default/better-skills", Identifier(vault="system-default", slug="better-skills")),
        ("my.skill_2", Identifier(slug="my.skill_2")),
        # Not quite a UUID: a slug, which the server then does not find (exit 3).
        (UUID[:-1], Identifier(slug=UUID[:-1])),
    ],
)
def test_parse_identifier(text: str, expected: Identifier) -> None:
    assert parse_identifier(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "a/b/c",
        "/deploy",
        "personal/",
        "dep loy",
        "../etc",
        "..",
        ".",
        "a/..",
        "-x/y",
        "x\x1b[31m",
        "é",
    ],
)
def test_parse_identifier_refuses(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        parse_identifier(text)
    assert "\x1b" not in str(raised.value)


def test_path_segments_never_climb() -> None:
    # Ids come from the server: each is one percent-encoded segment, "." and ".." included.
    from better_skills.client.vault import _segment

    assert _segment("..") == "%2E%2E"
    assert _segment(".") == "%2E"
    assert _segment("a/b") == "a%2Fb"
    assert _segment("a..b") == "a..b"


def test_str_round_trips() -> None:
    for text in (UUID, "deploy", "personal/deploy"):
        assert str(parse_identifier(text)) == text


def test_candidates_of_409_details() -> None:
    details = [
        {"path": "personal/x", "message": "Personal"},
        {"path": "team\x1b[2J/x", "message": "Team"},
        {"message": "no path"},
        "junk",
    ]
    assert candidates_of(details) == ["personal/x", "team/x"]
    assert candidates_of(None) == []
