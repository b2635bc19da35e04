"""``rewrite-links``: ordinary local links become draft mentions (original-system.md §4.6).

Pure over text: the CLI reads the files, this decides what changes, the CLI writes. Code (fenced
blocks, inline spans; :mod:`better_skills.skillfmt.markdown`) is never touched. On the rest, four
passes run in order, each blind to the tokens of the passes before it:

1. Markdown links ``[label](target)`` (not images ``![..](..)``, not escaped ``\\[``); the whole
   link becomes the token. An angle-bracketed target is taken whole, otherwise up to the first
   space (a title is dropped).
2. Autolinks ``<target>``.
3. Wiki links ``[[target]]`` and ``[[target|label]]`` (not ``[[skill:..]]``/``[[resource:..]]``).
4. Bare paths after the start of a line, a space or one of ``> → ├ └ │ ─ -``, made of anything
   but spaces, backticks, quotes and brackets; trailing ``.,;:!?`` stay outside.

A target is rewritten only when it names a known file: from the skill root, else relative to the
file's folder (never above the root), else by a case-insensitive file name that exactly one known
file has. URLs (``scheme:``), anchors (``#..``) and escaped targets are left alone. A second run
changes nothing. Unlike the original, the frontmatter of ``SKILL.md`` is not rewritten.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from collections.abc import Callable, Collection, Mapping

from better_skills.skillfmt.frontmatter import FrontmatterError, split_skill_md
from better_skills.skillfmt.markdown import code_ranges
from better_skills.skillfmt.paths import nfc

__all__ = ["rewrite_links", "rewrite_text"]

_MENTION_LIKE = re.compile(r"\\?\[\[(?:skill|resource):[^\[\]\n]*\]\]", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]*)\]\(([^()\n]*)\)")
_AUTOLINK = re.compile(r"<([^<>\s]+)>")
_WIKI_LINK = re.compile(r"\[\[([^\[\]\n|]+)(?:\|[^\[\]\n]*)?\]\]")
_ANY_DOUBLE_BRACKETS = re.compile(r"\[\[[^\[\]\n]*\]\]")
_BARE = re.compile(r"[^\s`'\"<>()\[\]{}]+")
_BARE_BEFORE = set(" \t\r\f\v>→├└│─-")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_UNSAFE_IN_TOKEN = set("[]`\n\r")

Segment = list  # [text: str, protected: bool]


class _Known:
    """The known files, and the three ways a target can name one of them."""

    def __init__(self, known: Collection[str]) -> None:
        self.paths = {nfc(p): p for p in known if not (_UNSAFE_IN_TOKEN & set(p))}
        by_name: dict[str, list[str]] = {}
        for normal, path in self.paths.items():
            by_name.setdefault(posixpath.basename(normal).lower(), []).append(path)
        self.by_name = {name: paths[0] for name, paths in by_name.items() if len(paths) == 1}

    def resolve(self, target: str, source: str) -> str | None:
        target = target.strip()
        if not target or target[0] in "\\#" or _SCHEME.match(target):
            return None
        target = target.replace("\\", "/").split("#", 1)[0].split("?", 1)[0]
        if not target:
            return None
        from_root = _inside(target.lstrip("/"))
        if from_root is not None and from_root in self.paths:
            return self.paths[from_root]
        relative = _inside(posixpath.join(posixpath.dirname(source), target))
        if relative is not None and relative in self.paths:
            return self.paths[relative]
        name = posixpath.basename(target.rstrip("/")).lower()
        return self.by_name.get(nfc(name)) if name else None


def _inside(path: str) -> str | None:
    """``path`` normalised, or ``None`` when it climbs above the root."""
    if not path:
        return None
    normal = posixpath.normpath(path)
    if normal == "." or normal == ".." or normal.startswith(("../", "/")):
        return None
    return nfc(normal)


def rewrite_links(texts: Mapping[str, str], known: Collection[str]) -> dict[str, tuple[str, int]]:
    """``path -> (new text, replacements)`` for every text that changes.

    ``texts`` are the files to rewrite (``SKILL.md`` and markdown-like files, by path);
    ``known`` the files a link may name (every file of the folder but ``SKILL.md``).
    """
    index = _Known(known)
    changed: dict[str, tuple[str, int]] = {}
    for path in sorted(texts):
        head, text = "", texts[path]
        if path == "SKILL.md":
            # Unlike the original, the frontmatter is left alone: a token at the start of a
            # YAML value (`description: [[resource:...]]`) would turn it into a list.
            with contextlib.suppress(FrontmatterError):
                head, text, _ = split_skill_md(text)
        new, count = rewrite_text(text, path, index)
        if count:
            changed[path] = (head + new, count)
    return changed


def rewrite_text(text: str, source: str, known: _Known | Collection[str]) -> tuple[str, int]:
    """One file's text rewritten, and the number of links replaced."""
    index = known if isinstance(known, _Known) else _Known(known)
    segments = _segments(text)
    count = 0

    def token_for(target: str) -> str | None:
        nonlocal count
        path = index.resolve(target, source)
        if path is None:
            return None
        count += 1
        return f"[[resource:new:{path}]]"

    def markdown_link(match: re.Match[str], before: str) -> str | None:
        if before in ("!", "\\"):
            return None
        target = match.group(2).strip()
        if target.startswith("<"):
            target = target[1:].split(">", 1)[0]
        else:
            target = target.split(None, 1)[0] if target else ""
        return token_for(target)

    def autolink(match: re.Match[str], before: str) -> str | None:
        return None if before == "\\" else token_for(match.group(1))

    def wiki_link(match: re.Match[str], before: str) -> str | None:
        inner = match.group(1).strip()
        if before == "\\" or inner.lower().startswith(("resource:", "skill:")):
            return None
        return token_for(inner)

    def bare_path(match: re.Match[str], before: str) -> str | None:
        if before not in _BARE_BEFORE and before != "":
            return None
        word = match.group(0)
        core = word.rstrip(".,;:!?")
        if not core:
            return None
        token = token_for(core)
        return None if token is None else token + word[len(core) :]

    _protect(segments, _MENTION_LIKE)
    _apply(segments, _MARKDOWN_LINK, markdown_link)
    _apply(segments, _AUTOLINK, autolink)
    _apply(segments, _WIKI_LINK, wiki_link)
    _protect(segments, _ANY_DOUBLE_BRACKETS)
    _apply(segments, _BARE, bare_path)
    if not count:
        return text, 0
    return "".join(text for text, _ in segments), count


def _segments(text: str) -> list[Segment]:
    """The text cut into protected code and line breaks, and free pieces of one line each."""
    segments: list[Segment] = []
    position = 0

    def free(piece: str) -> None:
        lines = piece.split("\n")
        for number, line in enumerate(lines):
            if number:
                segments.append(["\n", True])
            if line:
                segments.append([line, False])

    for start, end in code_ranges(text):
        free(text[position:start])
        segments.append([text[start:end], True])
        position = end
    free(text[position:])
    return segments


def _apply(
    segments: list[Segment],
    pattern: re.Pattern[str],
    handler: Callable[[re.Match[str], str], str | None],
) -> None:
    """Run one pass: matches in free segments become protected replacements."""
    index = 0
    while index < len(segments):
        text, protected = segments[index]
        if protected:
            index += 1
            continue
        previous = segments[index - 1][0][-1:] if index else ""
        before_segment = "" if previous == "\n" else previous
        pieces: list[Segment] = []
        position = 0
        for match in pattern.finditer(text):
            before = text[match.start() - 1] if match.start() else before_segment
            new = handler(match, before)
            if new is None:
                continue
            if match.start() > position:
                pieces.append([text[position : match.start()], False])
            pieces.append([new, True])
            position = match.end()
        if not pieces:
            index += 1
            continue
        if position < len(text):
            pieces.append([text[position:], False])
        segments[index : index + 1] = pieces
        index += len(pieces)


def _protect(segments: list[Segment], pattern: re.Pattern[str]) -> None:
    _apply(segments, pattern, lambda match, _before: match.group(0))
