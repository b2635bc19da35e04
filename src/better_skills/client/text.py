"""Make server-supplied text safe to print in a terminal.

A hostile or broken server could put escape sequences in a user name or an error description to
rewrite the screen, change the window title, or hide text; bidirectional overrides can reorder
what the user reads; invisible characters (Unicode tags U+E0000 to U+E007F, word joiner, soft
hyphen, zero-width spaces) can smuggle text past the eye; a lone surrogate cannot be printed.
Everything the server sends passes through :func:`clean` before display.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean"]

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC (ESC P/X/^/_ ... ST), and
# any other two-byte ESC sequence. Their single-byte C1 forms are removed as control characters.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[\s\S]?"
)
# Removed: controls (Cc), format characters (Cf: bidi overrides as in Trojan Source,
# CVE-2021-42574, zero-width characters, U+2060, U+00AD, the tag block), lone surrogates (Cs),
# private-use (Co) and unassigned (Cn) code points. Line and paragraph separators become spaces.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACE_CATEGORIES = frozenset({"Zl", "Zp"})


def clean(text: object, *, max_length: int = 500) -> str:
    """One printable line: escape sequences and control characters removed, length capped."""
    value = _ESCAPE_SEQUENCE.sub("", str(text))
    out = []
    for ch in value:
        category = unicodedata.category(ch)
        if ch in "\t\n\r" or category in _SPACE_CATEGORIES:
            out.append(" ")
        elif category in _REMOVED_CATEGORIES:
            continue
        else:
            out.append(ch)
    result = "".join(out).strip()
    if len(result) > max_length:
        result = result[: max_length - 1] + "…"
    return result
