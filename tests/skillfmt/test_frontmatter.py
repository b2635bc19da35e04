"""SKILL.md frontmatter: found, parsed, never changed."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from better_skills.skillfmt.frontmatter import (
    FrontmatterError,
    SkillMd,
    parse_skill_md,
    split_skill_md,
)


def test_parses_mapping_and_keeps_body_untouched() -> None:
    text = "---\n# a comment\nname: demo\ndescription: Does things.\n---\n\n# Title\n  body  \n"
    parsed = parse_skill_md(text)
    assert parsed == SkillMd(
        frontmatter={"name": "demo", "description": "Does things."},
        body="\n# Title\n  body  \n",
        body_line=6,
    )


def test_crlf_and_a_closing_line_with_spaces() -> None:
    parsed = parse_skill_md("---\r\nname: a\r\ndescription: b\r\n  ---  \r\nbody\r\n")
    assert parsed.frontmatter == {"name": "a", "description": "b"}
    assert parsed.body == "body\r\n"
    assert parsed.body_line == 5


def test_closing_line_at_end_without_newline() -> None:
    parsed = parse_skill_md("---\nname: a\n---")
    assert parsed.body == ""
    assert parsed.frontmatter == {"name": "a"}


def test_dates_stay_strings_so_the_mapping_is_json() -> None:
    parsed = parse_skill_md("---\nname: a\nupdated: 2024-01-02\nwhen: 2024-01-02T03:04:05Z\n---\n")
    assert parsed.frontmatter["updated"] == "2024-01-02"
    assert parsed.frontmatter["when"] == "2024-01-02T03:04:05Z"


def test_other_types_survive() -> None:
    parsed = parse_skill_md("---\nname: a\nn: 3\nok: true\nx: null\nl: [1, 2.5]\nm: {k: v}\n---\n")
    assert parsed.frontmatter == {
        "name": "a",
        "n": 3,
        "ok": True,
        "x": None,
        "l": [1, 2.5],
        "m": {"k": "v"},
    }


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "must start with YAML frontmatter", 1),
        ("name: a\n", "must start with YAML frontmatter", 1),
        ("\ufeff---\nname: a\n---\n", "must start with YAML frontmatter", 1),
        (" ---\nname: a\n---\n", "must start with YAML frontmatter", 1),
        ("---\nname: a\n", "not closed", 1),
        ("---name: a\n---\n", "must start with YAML frontmatter", 1),
        ("---\nname: [a\n---\n", "not valid YAML", 3),
        ("---\nname: a\n  bad: indent\n---\n", "not valid YAML", 3),
        ("---\n- a\n- b\n---\n", "must be a YAML mapping", 2),
        ("---\njust text\n---\n", "must be a YAML mapping", 2),
        ("---\n---\n", "must be a YAML mapping", 2),
        ("---\n1: a\n---\n", "keys must be strings", None),
        ("---\nx: !!binary aGk=\n---\n", "cannot be stored as JSON", None),
        ("---\nx: .nan\n---\n", "cannot be stored as JSON", None),
        ("---\nx: !!python/object:os.system ls\n---\n", "not valid YAML", 2),
        ("---\nx: &a [*a]\n---\n", "nested too deeply", None),
    ],
)
def test_refusals(text: str, message: str, line: int | None) -> None:
    with pytest.raises(FrontmatterError) as caught:
        parse_skill_md(text)
    assert message in caught.value.message
    assert caught.value.line == line


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    text = "\n".join([*lines, "---", ""])
    with pytest.raises(FrontmatterError, match="more than"):
        parse_skill_md(text)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(FrontmatterError):
        parse_skill_md("---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\n")


@given(st.text())
def test_parse_never_crashes(text: str) -> None:
    try:
        parsed = parse_skill_md(text)
    except FrontmatterError:
        return
    assert isinstance(parsed.frontmatter, dict)
    assert text.endswith(parsed.body)


@given(st.text(alphabet=st.sampled_from("-:\n\r '\"[]{}&*!|>#a\t")))
def test_parse_never_crashes_on_yaml_punctuation(body: str) -> None:
    with contextlib.suppress(FrontmatterError):
        parse_skill_md("---\n" + body)


@pytest.mark.parametrize(
    ("text", "head", "line"),
    [
        ("---\nname: a\n---\nbody", "---\nname: a\n---\n", 4),
        ("---\r\nx: [\r\n---\r\n", "---\r\nx: [\r\n---\r\n", 4),
        ("---\n---", "---\n---", 3),
    ],
)
def test_split_reads_no_yaml(text: str, head: str, line: int) -> None:
    assert split_skill_md(text) == (head, text[len(head) :], line)


@given(st.text())
def test_split_is_lossless(text: str) -> None:
    try:
        head, body, _ = split_skill_md(text)
    except FrontmatterError:
        return
    assert head + body == text
