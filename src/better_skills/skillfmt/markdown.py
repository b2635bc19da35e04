"""Where Markdown code is: fenced code blocks and inline code spans.

Mentions and link rewriting both leave code alone, so they share this one reading of it:
- a fence opens on a line of ```` ``` ```` or ``~~~`` (3 or more, up to 3 leading spaces) and
  closes on a line of the same character repeated at least as often (nothing else on it but
  spaces); an unclosed fence runs to the end of the text;
- outside fences, a run of N backticks opens an inline code span that the next run of exactly N
  backticks closes, within one paragraph (a blank line ends it); a backslash escapes a backtick
  that would open a span; a run with no partner is text.
"""

from __future__ import annotations

import re
from bisect import bisect_right

__all__ = ["CodeRanges", "code_ranges"]

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")


def code_ranges(text: str) -> list[tuple[int, int]]:
    """Sorted, disjoint ``(start, end)`` offsets of the code in ``text``."""
    ranges: list[tuple[int, int]] = []
    paragraph_start: int | None = None
    fence: tuple[str, int, int] | None = None  # (char, length, start offset)
    offset = 0
    for line in text.split("\n"):
        start, offset = offset, min(offset + len(line) + 1, len(text))
        content = line.removesuffix("\r")
        if fence is not None:
            char, length, fence_start = fence
            stripped = content.strip(" \t")
            if (
                len(content) - len(content.lstrip(" ")) <= 3
                and len(stripped) >= length
                and stripped == char * len(stripped)
            ):
                ranges.append((fence_start, offset))
                fence = None
            continue
        opened = _FENCE_OPEN.match(content)
        if opened and not (opened.group(1)[0] == "`" and "`" in content[opened.end() :]):
            if paragraph_start is not None:
                ranges.extend(_inline_spans(text, paragraph_start, start))
                paragraph_start = None
            fence = (opened.group(1)[0], len(opened.group(1)), start)
            continue
        if content.strip() == "":
            if paragraph_start is not None:
                ranges.extend(_inline_spans(text, paragraph_start, start))
                paragraph_start = None
        elif paragraph_start is None:
            paragraph_start = start
    if fence is not None:
        ranges.append((fence[2], len(text)))
    elif paragraph_start is not None:
        ranges.extend(_inline_spans(text, paragraph_start, len(text)))
    ranges.sort()
    return ranges


def _inline_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text, start, end)]
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(runs):
        run_start, run_end = runs[index]
        # A backslash before the run escapes its first backtick (outside code only).
        if run_start > start and text[run_start - 1] == "\\":
            run_start += 1
            if run_start == run_end:
                index += 1
                continue
        length = run_end - run_start
        closing = next(
            (j for j in range(index + 1, len(runs)) if runs[j][1] - runs[j][0] == length), None
        )
        if closing is None:
            index += 1
            continue
        spans.append((run_start, runs[closing][1]))
        index = closing + 1
    return spans


class CodeRanges:
    """``inside(start, end)``: does ``text[start:end]`` touch code?"""

    def __init__(self, text: str) -> None:
        self.ranges = code_ranges(text)
        self._starts = [start for start, _ in self.ranges]

    def touches(self, start: int, end: int) -> bool:
        index = bisect_right(self._starts, end - 1) - 1  # last range starting before `end`
        return index >= 0 and self.ranges[index][1] > start
