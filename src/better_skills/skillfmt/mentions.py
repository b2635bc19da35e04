"""Mentions: ``[[skill:<uuid>]]`` and ``[[resource:<uuid>]]`` tokens in a skill's text files
(original-system.md §4.1), and drafts ``[[resource:new:<path>]]`` that name a file of the same
upload.

- The type and the hex digits are case-insensitive; ids come out lower-case.
- A token lies on one line. A backslash right before ``[[`` escapes it (``\\[[skill:...]]``).
- Unlike the original, a token inside an inline code span or a fenced code block is text, not a
  mention (see :mod:`better_skills.skillfmt.markdown`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from better_skills.skillfmt.markdown import CodeRanges
from better_skills.skillfmt.paths import normalize_reference

__all__ = [
    "Token",
    "analyse",
    "drafts",
    "is_text",
    "mentions",
    "render",
    "replace",
    "scan",
    "syntax_problems",
    "unescape",
]

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
#: Anything shaped like a mention; its target is judged afterwards.
_TOKEN = re.compile(r"\[\[(skill|resource):([^\[\]\n]*)\]\]", re.IGNORECASE)
#: The two escaped forms: ``\[[x:...]]`` and ``\[\[x:...\]\]``.
_ESCAPED = re.compile(
    r"\\\[\[((?:skill|resource):[^\[\]\n]*)\]\]|\\\[\\\[((?:skill|resource):[^\[\]\n\\]*)\\\]\\\]",
    re.IGNORECASE,
)
_DRAFT_PREFIX = "new:"


@dataclass(frozen=True)
class Token:
    kind: str  # "skill" or "resource"
    target: str  # lower-case uuid, or the normalised path of a draft
    draft: bool
    start: int
    end: int
    line: int  # 1-based


class _Lines:
    """Offset -> 1-based line number."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> int:
        return bisect_right(self._starts, offset)


def _candidates(text: str) -> list[tuple[re.Match[str], Token | None]]:
    """Every unescaped token-like match outside code, with its token (``None``: bad syntax)."""
    if "[[" not in text:
        return []
    code = CodeRanges(text) if "`" in text or "~~~" in text else None
    lines = _Lines(text)
    found: list[tuple[re.Match[str], Token | None]] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if start > 0 and text[start - 1] == "\\":
            continue
        if code is not None and code.touches(start, end):
            continue
        kind, target = match.group(1).lower(), match.group(2)
        token: Token | None = None
        if UUID.fullmatch(target):
            token = Token(kind, target.lower(), False, start, end, lines.at(start))
        elif kind == "resource" and target[: len(_DRAFT_PREFIX)].lower() == _DRAFT_PREFIX:
            path = normalize_reference(target[len(_DRAFT_PREFIX) :])
            if path:
                token = Token(kind, path, True, start, end, lines.at(start))
        found.append((match, token))
    return found


def scan(text: str) -> list[Token]:
    """Every live token, persisted and draft, in order."""
    return [token for _, token in _candidates(text) if token is not None]


def mentions(text: str) -> list[Token]:
    """Persisted tokens, distinct by (kind, target), in order of first appearance."""
    seen: set[tuple[str, str]] = set()
    result: list[Token] = []
    for token in scan(text):
        key = (token.kind, token.target)
        if not token.draft and key not in seen:
            seen.add(key)
            result.append(token)
    return result


def drafts(text: str) -> list[Token]:
    """Draft tokens ``[[resource:new:<path>]]``, in order (not de-duplicated)."""
    return [token for token in scan(text) if token.draft]


def syntax_problems(text: str) -> list[tuple[int, str]]:
    """``(line, message)`` for every mention-like token whose target is not a uuid or a draft."""
    return analyse(text)[1]


def analyse(text: str) -> tuple[list[Token], list[tuple[int, str]]]:
    """``(scan(text), syntax_problems(text))`` in one pass over the text."""
    tokens: list[Token] = []
    problems: list[tuple[int, str]] = []
    lines: _Lines | None = None
    for match, token in _candidates(text):
        if token is not None:
            tokens.append(token)
        else:
            lines = lines or _Lines(text)
            kind, target = match.group(1).lower(), match.group(2)
            if kind == "resource" and target[: len(_DRAFT_PREFIX)].lower() == _DRAFT_PREFIX:
                why = "draft path is empty"
            else:
                why = "target must be a uuid"
            problems.append(
                (lines.at(match.start()), f"Invalid mention syntax: {match.group(0)} {why}")
            )
    return tokens, problems


def replace(text: str, fn: Callable[[Token], str | None]) -> str:
    """Each live token replaced by ``fn(token)`` (``None`` keeps it); escapes and code stay."""
    return _transform(text, fn, unescape=False)


def unescape(text: str) -> str:
    """``\\[[x:...]]`` and ``\\[\\[x:...\\]\\]`` -> ``[[x:...]]`` (outside code)."""
    return _transform(text, lambda _token: None, unescape=True)


def render(text: str, label: Callable[[Token], str]) -> str:
    """What a reader or an agent sees: tokens replaced by ``label(token)``, escapes removed."""
    return _transform(text, label, unescape=True)


def _transform(text: str, fn: Callable[[Token], str | None], *, unescape: bool) -> str:
    edits: list[tuple[int, int, str]] = []
    for token in scan(text):
        new = fn(token)
        if new is not None:
            edits.append((token.start, token.end, new))
    if unescape and "\\" in text:
        code: CodeRanges | None = None
        for match in _ESCAPED.finditer(text):
            code = code or CodeRanges(text)
            if not code.touches(*match.span()):
                body = match.group(1) or match.group(2)
                edits.append((match.start(), match.end(), f"[[{body}]]"))
    if not edits:
        return text
    edits.sort()
    parts: list[str] = []
    position = 0
    for start, end, new in edits:
        parts.append(text[position:start])
        parts.append(new)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def is_text(data: bytes) -> bool:
    """Valid UTF-8 without a NUL byte: only such files carry mentions."""
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
