"""Markdown to HTML a browser can show safely.

Two layers: markdown-it-py runs with raw HTML off (``<script>`` in a skill is shown as text,
not parsed) and its own link check (no ``javascript:``, ``vbscript:``, ``file:`` or ``data:``);
then nh3 (the Ammonia sanitiser) keeps only the tags, attributes and URL schemes listed here,
whatever the first layer let through.
"""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from better_skills.server.render.code import highlight_block

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "input", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
    "input": {"type", "checked", "disabled"},
}
URL_SCHEMES = {"http", "https", "mailto"}
#: Longer documents are shown as text: rendering is linear, but a page need not hold more.
MAX_MARKDOWN_CHARS = 2_000_000


def _image_as_link(
    self: RendererHTML, tokens: list[Token], idx: int, options: Any, env: Any
) -> str:
    """An image becomes a link to it: the CSP loads no image from elsewhere, and a link
    shows where it points."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or token.attrGet("src")
    src = escapeHtml(str(token.attrGet("src") or ""))
    return f'<a href="{src}">{escapeHtml(str(alt))}</a>'


def _highlight(code: str, lang: str, _attrs: str) -> str:
    return highlight_block(code, lang)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_link)
    return md


_MD = _parser()


def sanitize(html: str) -> str:
    """Only the allow-listed tags, attributes and URL schemes; links get
    ``rel="noopener noreferrer"``. Relative links (the console's own pages) stay."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Sanitised HTML of a Markdown document (mentions already turned into links)."""
    if len(text) > MAX_MARKDOWN_CHARS:
        return sanitize(f"<pre>{escapeHtml(text)}</pre>")
    return sanitize(_MD.render(text))
