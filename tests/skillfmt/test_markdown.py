"""Where code is: fenced blocks and inline spans."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from better_skills.skillfmt.markdown import code_ranges


def code_of(text: str) -> list[str]:
    return [text[start:end] for start, end in code_ranges(text)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("plain", []),
        ("a `x` b", ["`x`"]),
        ("a ``x ` y`` b", ["``x ` y``"]),
        ("a ``x` b", []),  # no partner of the same length
        ("a `x\ny` b", ["`x\ny`"]),  # a span may cross a line break
        ("a `x\n\ny` b", []),  # but not a blank line
        ("a \\`x` b", []),  # escaped opener
        ("```\ncode\n```\nafter", ["```\ncode\n```\n"]),
        ("~~~~\ncode\n~~~\nstill\n~~~~\n", ["~~~~\ncode\n~~~\nstill\n~~~~\n"]),
        ("   ```\ncode\n   ```", ["   ```\ncode\n   ```"]),
        ("    ```\nnot a fence\n", []),
        ("```\nunclosed", ["```\nunclosed"]),
        ("```py\nx\n```  \ny", ["```py\nx\n```  \n"]),
        ("``` a`b\n`x`", ["`b\n`"]),  # backtick in the info string: not a fence
        ("~~~\n```\n~~~\n", ["~~~\n```\n~~~\n"]),
        ("```\nx\n``\n```\n", ["```\nx\n``\n```\n"]),
        ("text `a` and\n```\nb\n```\n`c`", ["`a`", "```\nb\n```\n", "`c`"]),
    ],
)
def test_code_ranges(text: str, code: list[str]) -> None:
    assert code_of(text) == code


@given(st.text(alphabet=st.sampled_from("`~ \n\\ax")))
def test_ranges_are_sorted_disjoint_and_inside(text: str) -> None:
    ranges = code_ranges(text)
    previous = 0
    for start, end in ranges:
        assert previous <= start < end <= len(text)
        previous = end
