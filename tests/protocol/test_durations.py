"""Durations in words: one rule for the pages, the server's messages and the CLI."""

from __future__ import annotations

import pytest

from better_skills.protocol.durations import duration_text, relative_text


@pytest.mark.parametrize(
    ("seconds", "text", "up"),
    [
        (1, "1 second", "1 second"),
        (44.2, "44 seconds", "45 seconds"),
        (57, "1 minute", "1 minute"),  # 0.95 of a unit is that unit
        (90, "2 minutes", "2 minutes"),
        (61, "1 minute", "2 minutes"),  # a wait is never understated
        (3600, "1 hour", "1 hour"),
        (8 * 3600, "8 hours", "8 hours"),
        (23 * 3600, "1 day", "1 day"),
        (30 * 86400, "30 days", "30 days"),
        (-1800, "30 minutes", "30 minutes"),
        (0, "1 second", "1 second"),
    ],
)
def test_duration_text(seconds: float, text: str, up: str) -> None:
    assert duration_text(seconds) == text
    assert duration_text(seconds, round_up=True) == up


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (-10, "just now"),
        (10, "in a few seconds"),
        (-300, "5 minutes ago"),
        (1500, "in 25 minutes"),
        (-3600, "1 hour ago"),
        (2 * 86400, "in 2 days"),
    ],
)
def test_relative_text(delta: float, text: str) -> None:
    assert relative_text(delta) == text
