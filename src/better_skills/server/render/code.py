"""Source highlighted by Pygments into ``<span class=...>`` runs (no inline styles: the CSP
allows only the site's stylesheets). ``static/highlight.css`` is made by :func:`stylesheet`."""

from __future__ import annotations

from html import escape

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

#: Bigger files are shown unhighlighted: a lexer's cost grows with the text.
MAX_HIGHLIGHT_CHARS = 300_000
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"

_FORMATTER = HtmlFormatter(nowrap=True)


def _lexer_by_name(lang: str) -> Lexer | None:
    name = lang.strip().split()[0] if lang.strip() else ""
    if not name or len(name) > 40:
        return None
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _lexer_for_file(path: str) -> Lexer | None:
    try:
        return get_lexer_for_filename(path.rsplit("/", 1)[-1], stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _spans(code: str, lexer: Lexer | None) -> str:
    if lexer is None or len(code) > MAX_HIGHLIGHT_CHARS:
        return escape(code, quote=False)
    return highlight(code, lexer, _FORMATTER)


def highlight_block(code: str, lang: str) -> str:
    """A fenced block's inner HTML (markdown-it wraps it in ``<pre><code>``)."""
    return _spans(code, _lexer_by_name(lang))


def highlight_file(path: str, text: str) -> str:
    """A whole file as ``<pre class="highlight"><code>...</code></pre>``; the lexer is chosen
    by the file's name, plain text when none fits."""
    return f'<pre class="highlight"><code>{_spans(text, _lexer_for_file(path))}</code></pre>'


def stylesheet() -> str:
    """The CSS for the classes above: light, and dark under ``prefers-color-scheme``."""
    light = HtmlFormatter(style=LIGHT_STYLE).get_style_defs([".markdown pre", ".highlight"])
    dark = HtmlFormatter(style=DARK_STYLE).get_style_defs([".markdown pre", ".highlight"])
    indented = "\n".join(f"  {line}" if line else line for line in dark.splitlines())
    return (
        "/* Made by better_skills.server.render.code.stylesheet(); do not edit by hand. */\n"
        f"{light}\n@media (prefers-color-scheme: dark) {{\n{indented}\n}}\n"
    )
