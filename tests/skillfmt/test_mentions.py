"""Mention tokens: syntax, escapes, code, replacement and rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from better_skills.skillfmt.mentions import (
    Token,
    analyse,
    drafts,
    is_text,
    mentions,
    render,
    replace,
    scan,
    syntax_problems,
    unescape,
)

A = "0123abcd-0000-4000-8000-00000000000a"
B = "0123abcd-0000-4000-8000-00000000000b"


def targets(text: str) -> list[tuple[str, str, bool]]:
    return [(t.kind, t.target, t.draft) for t in scan(text)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"[[skill:{A}]]", [("skill", A, False)]),
        (f"[[SKILL:{A.upper()}]]", [("skill", A, False)]),
        (f"[[Resource:{A}]]", [("resource", A, False)]),
        ("[[resource:new:references/a.md]]", [("resource", "references/a.md", True)]),
        ("[[resource:NEW: ./references/a.md#top ]]", [("resource", "references/a.md", True)]),
        ("[[resource:new:refs\\a.md]]", [("resource", "refs/a.md", True)]),
        (f"x [[skill:{A}]] y [[resource:{B}]]", [("skill", A, False), ("resource", B, False)]),
        (f"\\[[skill:{A}]]", []),  # escaped
        (f"`[[skill:{A}]]`", []),  # inline code
        (f"``a [[skill:{A}]] b``", []),
        (f"```\n[[skill:{A}]]\n```", []),  # fenced
        (f"~~~md\n[[skill:{A}]]\n~~~", []),
        (f"```\n[[skill:{A}]]", []),  # unclosed fence runs to the end
        (f"`x` [[skill:{A}]] `y`", [("skill", A, False)]),
        (f"`unmatched [[skill:{A}]]", [("skill", A, False)]),
        (f"[[skill:{A}\n]]", []),  # one line only
        (f"[skill:{A}]", []),
        (f"[[link:{A}]]", []),
        (f"[[skill:{A}]", []),
        (f"[[skill:[[skill:{A}]]", [("skill", A, False)]),
        (f"[[skill:new:{A}]]", []),  # drafts are resources only
        (f"    [[skill:{A}]]", [("skill", A, False)]),  # indented code is not special
    ],
)
def test_scan(text: str, found: list[tuple[str, str, bool]]) -> None:
    assert targets(text) == found


def test_token_offsets_and_lines() -> None:
    text = f"intro\n\nsee [[skill:{A}]]\n"
    (token,) = scan(text)
    assert token == Token("skill", A, False, 11, 11 + len(f"[[skill:{A}]]"), 3)
    assert text[token.start : token.end] == f"[[skill:{A}]]"


def test_mentions_are_distinct_in_first_order_and_skip_drafts() -> None:
    text = (
        f"[[resource:{B}]] [[skill:{A}]] [[resource:new:a.md]] "
        f"[[skill:{A.upper()}]] [[resource:{B}]]"
    )
    assert [(t.kind, t.target) for t in mentions(text)] == [("resource", B), ("skill", A)]
    assert [t.target for t in drafts(text)] == ["a.md"]


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("[[skill:foo]]", [(1, "Invalid mention syntax: [[skill:foo]] target must be a uuid")]),
        ("\n[[resource:]]", [(2, "Invalid mention syntax: [[resource:]] target must be a uuid")]),
        (
            "[[resource:new:]]",
            [(1, "Invalid mention syntax: [[resource:new:]] draft path is empty")],
        ),
        (
            "[[resource:new:#x]]",
            [(1, "Invalid mention syntax: [[resource:new:#x]] draft path is empty")],
        ),
        (f"[[skill:{A}x]]", [(1, f"Invalid mention syntax: [[skill:{A}x]] target must be a uuid")]),
        ("\\[[skill:foo]]", []),
        ("`[[skill:foo]]`", []),
        ("```\n[[skill:foo]]\n```", []),
        ("[[tag:foo]]", []),
        (f"[[skill:{A}]] [[resource:new:a.md]]", []),
    ],
)
def test_syntax_problems(text: str, problems: list[tuple[int, str]]) -> None:
    assert syntax_problems(text) == problems


def test_replace_leaves_escapes_code_and_bad_tokens() -> None:
    text = f"[[skill:{A}]] \\[[skill:{A}]] `[[skill:{A}]]` [[skill:foo]] [[resource:new:a.md]]"
    out = replace(text, lambda t: "DRAFT" if t.draft else "ID")
    assert out == f"ID \\[[skill:{A}]] `[[skill:{A}]]` [[skill:foo]] DRAFT"


def test_replace_none_keeps_a_token() -> None:
    text = f"[[skill:{A}]] [[skill:{B}]]"
    assert replace(text, lambda t: "X" if t.target == A else None) == f"X [[skill:{B}]]"


def test_unescape_both_forms_but_not_in_code() -> None:
    text = f"\\[[skill:{A}]] and \\[\\[resource:x\\]\\] but `\\[[skill:{A}]]`"
    assert unescape(text) == f"[[skill:{A}]] and [[resource:x]] but `\\[[skill:{A}]]`"


def test_render_labels_and_unescapes() -> None:
    text = f"Use [[skill:{A}]], not \\[[skill:{A}]]."
    assert render(text, lambda t: "`deploy`") == f"Use `deploy`, not [[skill:{A}]]."


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"hello", True),
        ("héllo".encode(), True),
        (b"", True),
        (b"a\0b", False),
        (b"\xff\xfe", False),
        (b"\x89PNG\r\n\x1a\n\0\0", False),
    ],
)
def test_is_text(data: bytes, text: bool) -> None:
    assert is_text(data) is text


TEXTS = st.one_of(
    st.text(),
    st.lists(
        st.sampled_from(
            [
                "[[",
                "]]",
                "skill:",
                "resource:",
                "new:",
                A,
                "`",
                "```",
                "\n",
                "\\",
                "~~~",
                "a",
                " ",
                "x.md",
            ]
        )
    ).map("".join),
)


@given(TEXTS)
def test_scanning_never_crashes(text: str) -> None:
    for token in scan(text):
        assert text[token.start : token.end].startswith("[[")
        assert token.line == text.count("\n", 0, token.start) + 1
    syntax_problems(text)
    mentions(text)


@given(TEXTS)
def test_replace_with_identity_keeps_text(text: str) -> None:
    assert replace(text, lambda t: text[t.start : t.end]) == text
    assert replace(text, lambda t: None) == text


@given(TEXTS)
def test_render_of_text_without_tokens_is_unescape(text: str) -> None:
    if scan(text):
        return
    assert render(text, lambda t: "LABEL") == unescape(text)


@given(TEXTS)
def test_render_replaces_every_live_token(text: str) -> None:
    rendered = render(text, lambda t: "\0")
    assert rendered.count("\0") == len(scan(text)) + text.count("\0")


@given(TEXTS)
def test_analyse_is_scan_and_syntax_problems(text: str) -> None:
    assert analyse(text) == (scan(text), syntax_problems(text))
