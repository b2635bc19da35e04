"""Make server-supplied text safe to print in a terminal.

A hostile or broken server could put escape sequences in a user name or an error description to
rewrite the screen, change the window title, or hide text; bidirectional overrides can reorder
what the user reads. Everything the server sends passes through :func:`clean` before display.
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
# Format characters that reorder or hide text (Trojan Source, CVE-2021-42574).
_BIDI_AND_INVISIBLE = frozenset(
    "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)


def clean(text: object, *, max_length: int = 500) -> str:
    """One printable line: escape sequences and control characters removed, length capped."""
    value = _ESCAPE_SEQUENCE.sub("", str(text))
    out = []
    for ch in value:
        if ch in "\t\n\r":
            out.append(" ")
        elif unicodedata.category(ch) == "Cc" or ch in _BIDI_AND_INVISIBLE:
            continue
        else:
            out.append(ch)
    result = "".join(out).strip()
    if len(result) > max_length:
        result = result[: max_length - 1] + "…"
    return result
