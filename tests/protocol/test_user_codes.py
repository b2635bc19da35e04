"""The one rule for what a typed user code can be (protocol/device_flow.py), which the
device pages use to refuse a code without a lookup."""

from __future__ import annotations

import pytest

from better_skills.protocol.device_flow import (
    MAX_USER_CODE_INPUT,
    is_user_code,
    parse_user_code,
)


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("BCDF-GHJK", "BCDF-GHJK"),
        ("bcdfghjk", "BCDF-GHJK"),
        ("  bcdf ghjk  ", "BCDF-GHJK"),
        ("b-c-d-f-g-h-j-k", "BCDF-GHJK"),
        ("BCDF-GHJ", None),  # too short
        ("BCDF-GHJKL", None),  # too long
        ("BCDF-GHJA", None),  # a vowel is not in the alphabet
        ("BCDF-GHJ1", None),
        ("BCDF\tGHJK", None),  # not printable
        ("BCDF-GHJß", None),  # not ASCII
        ("", None),
        ("-" * (MAX_USER_CODE_INPUT - 8) + "BCDFGHJK", "BCDF-GHJK"),
        ("-" * (MAX_USER_CODE_INPUT - 7) + "BCDFGHJK", None),  # longer than anyone types
    ],
)
def test_parse_user_code(typed: str, parsed: str | None) -> None:
    assert parse_user_code(typed) == parsed


def test_is_user_code_takes_normalized_codes_only() -> None:
    assert is_user_code("BCDFGHJK")
    assert not is_user_code("BCDF-GHJK")
    assert not is_user_code("bcdfghjk")
    assert not is_user_code("")
