"""Mentions as Markdown links to the console's pages, for the targets the viewer may read.

The mention rules are skillfmt's (:func:`better_skills.skillfmt.mentions.render`): a token in
inline code or a fenced block is text, a backslash escapes one. A target that is missing or in
a vault the viewer cannot read renders as ``(unknown skill)`` / ``(unknown resource)``, the
same as for a deleted one, so a page never tells which ids exist elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from better_skills.skillfmt import mentions

_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


@dataclass(frozen=True)
class FileTarget:
    skill_id: str
    skill_name: str
    path: str


@dataclass(frozen=True)
class Targets:
    """The mention targets the viewer may read: skill id -> name, file id -> its place."""

    skills: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, FileTarget] = field(default_factory=dict)


def escape_markdown(text: str) -> str:
    """Text that Markdown shows as written: every ASCII punctuation mark backslash-escaped,
    line breaks as spaces (a label lies on one line)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


#: A skill's page in the console (routers/pages/skill.py); its other pages hang below it.
SKILL_PAGE = "/vault/skills/{skill_id}"


def skill_url(skill_id: str) -> str:
    return SKILL_PAGE.format(skill_id=quote(skill_id, safe=""))


def file_url(skill_id: str, path: str) -> str:
    return f"{skill_url(skill_id)}?file={quote(path, safe='')}"


def link_mentions(text: str, targets: Targets, current_skill: str | None = None) -> str:
    """``text`` with each live mention as a Markdown link (or a plain unknown label)."""

    def label(token: mentions.Token) -> str:
        if token.draft:
            return escape_markdown(f"[[resource:new:{token.target}]]")
        if token.kind == "skill":
            name = targets.skills.get(token.target)
            if name is None:
                return "`(unknown skill)`"
            return f"[{escape_markdown(name)}]({skill_url(token.target)})"
        found = targets.files.get(token.target)
        if found is None:
            return "`(unknown resource)`"
        text = (
            found.path
            if found.skill_id == current_skill
            else f"{found.path} for {found.skill_name}"
        )
        return f"[{escape_markdown(text)}]({file_url(found.skill_id, found.path)})"

    return mentions.render(text, label)
