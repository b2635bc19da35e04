"""What the web console shows of a skill's files, made safe for a browser.

* ``markdown``: Markdown to sanitised HTML (markdown-it-py, then nh3's allow-list), fenced code
  highlighted;
* ``code``: a source file highlighted by Pygments (class names only: the CSP forbids inline
  styles; ``static/highlight.css`` holds the colours);
* ``links``: mentions ``[[skill:<uuid>]]`` / ``[[resource:<uuid>]]`` as links to what the
  viewer may read, plain text for anything else.
"""

from __future__ import annotations

from better_skills.server.render.code import highlight_file
from better_skills.server.render.links import FileTarget, Targets, link_mentions
from better_skills.server.render.markdown import render_markdown, sanitize

__all__ = [
    "FileTarget",
    "Targets",
    "highlight_file",
    "link_mentions",
    "render_markdown",
    "sanitize",
]
