"""Output helpers: colour rules, status lines, time formatting, and text cleaning."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from better_skills.cli.output import (
    Output,
    format_countdown,
    format_relative,
    supports_color,
)
from better_skills.client.text import clean
from tests.cli.conftest import TTYStringIO


def test_colour_only_on_a_terminal() -> None:
    assert supports_color(TTYStringIO(), {})
    assert not supports_color(io.StringIO(), {})


@pytest.mark.parametrize("environ", [{"NO_COLOR": "1"}, {"NO_COLOR": "yes"}, {"TERM": "dumb"}])
def test_no_color_and_dumb_terminals(environ: dict[str, str]) -> None:
    assert not supports_color(TTYStringIO(), environ)


def test_an_empty_no_color_does_not_count() -> None:
    assert supports_color(TTYStringIO(), {"NO_COLOR": ""})  # per no-color.org


def test_styles_are_plain_text_without_colour() -> None:
    out = Output(io.StringIO(), io.StringIO(), environ={})
    assert out.style("x", "bold") == "x"
    coloured = Output(TTYStringIO(), TTYStringIO(), environ={})
    assert coloured.style("x", "bold", "red") == "\x1b[1;31mx\x1b[0m"


def test_messages_go_to_stderr_and_data_to_stdout() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(stdout, stderr, environ={})
    out.data("data")
    out.json({"a": 1})
    out.info("info")
    out.warn("careful")
    out.error("broken", ["try this"])
    assert stdout.getvalue() == 'data\n{\n  "a": 1\n}\n'
    assert stderr.getvalue() == "info\n! careful\n✗ broken\n  try this\n"


def test_ascii_terminals_get_ascii_symbols() -> None:
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    out = Output(io.StringIO(), stderr, environ={})
    assert out.symbol("ok") == "OK"


@pytest.mark.parametrize(
    ("answer", "default", "expected"),
    [
        ("y\n", False, True),
        ("yes\n", False, True),
        ("n\n", True, False),
        ("\n", True, True),
        ("\n", False, False),
        ("", False, False),
    ],
)
def test_confirm(answer: str, default: bool, expected: bool) -> None:
    stderr = io.StringIO()
    out = Output(io.StringIO(), stderr, stdin=io.StringIO(answer), environ={})
    assert out.confirm("Replace?", default=default) is expected
    assert "Replace?" in stderr.getvalue()


def test_plain_status_lines_repeat_only_on_change() -> None:
    stderr = io.StringIO()
    out = Output(io.StringIO(), stderr, environ={})
    with out.status() as status:
        status.update(lambda: "waiting 1", key="a")
        status.update(lambda: "waiting 2", key="a")
        status.update(lambda: "retrying", key="b")
    assert stderr.getvalue() == "waiting 1\nretrying\n"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1800, "30:00"), (59.2, "1:00"), (0.5, "0:01"), (0, "0:00"), (-3, "0:00"), (3723, "1:02:03")],
)
def test_countdown(seconds: float, text: str) -> None:
    assert format_countdown(seconds) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=8), "in 8 hours"),
        (timedelta(hours=-1), "1 hour ago"),
        (timedelta(minutes=3), "in 3 minutes"),
        (timedelta(seconds=-10), "just now"),
        (timedelta(seconds=10), "in a few seconds"),
        (timedelta(days=-2), "2 days ago"),
    ],
)
def test_relative_times(delta: timedelta, text: str) -> None:
    now = datetime(2024, 3, 15, 10, 30, tzinfo=UTC)
    assert format_relative(now + delta, now) == text


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Ada", "Ada"),
        ("A\x1b[31mred\x1b[0m", "Ared"),
        ("title\x1b]0;pwned\x07!", "title!"),
        ("osc-st\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "osc-stlink"),
        ("c1\x9b31mcsi", "c131mcsi"),
        ("bidi\u202eevil\u2066", "bidievil"),
        ("multi\nline\r\ttext", "multi line  text"),
        ("bell\x07 del\x7f", "bell del"),
        ("名前 ünïcode", "名前 ünïcode"),
    ],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


def test_clean_caps_length() -> None:
    assert len(clean("x" * 1000, max_length=10)) == 10
