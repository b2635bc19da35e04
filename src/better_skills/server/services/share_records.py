"""What a share holds (its snapshot of skills and files, imports of it), the rules of its
ids and of imported slugs, and how mentions inside a snapshot render as links."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from better_skills.protocol import errors
from better_skills.protocol.shares import is_share_id
from better_skills.server.services.skills import MAX_BUNDLE, SKILL_MD
from better_skills.skillfmt import mentions

SNAPSHOT_VERSION = 1
#: The most skills one share holds (one bundle answer must carry them all).
MAX_SHARE_SKILLS = MAX_BUNDLE
#: An imported skill whose slug is empty gets this one (§8.2).
FALLBACK_SLUG = "shared-skill"
MAX_SLUG = 64  # skillfmt.paths.check_slug

NOT_FOUND = "Share not found."


@dataclass(frozen=True)
class ShareFile:
    id: str  # the file's id when it was shared
    path: str
    kind: str
    content: bytes


@dataclass(frozen=True)
class ShareSkill:
    id: str  # the skill's id when it was shared
    slug: str
    name: str
    description: str
    frontmatter: dict[str, Any]
    content_hash: str
    files: list[ShareFile] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(f.content) for f in self.files)


@dataclass(frozen=True)
class Share:
    id: str
    skill_id: str | None  # the shared skill; None once it is deleted
    created_by: str
    created_at: int
    slug: str
    name: str
    description: str
    skill_count: int
    file_count: int
    size: int
    #: The snapshot, root first; empty in listings.
    skills: list[ShareSkill] = field(default_factory=list)

    @property
    def root(self) -> ShareSkill:
        return self.skills[0]


@dataclass(frozen=True)
class ImportedSkill:
    id: str
    slug: str
    name: str


@dataclass(frozen=True)
class ImportResult:
    root_skill_id: str
    skills: list[ImportedSkill]
    files: int
    links: int


def share_from_row(row: Any, skills: list[ShareSkill] | None = None) -> Share:
    return Share(
        id=row.id,
        skill_id=row.skill_id,
        created_by=row.created_by,
        created_at=row.created_at,
        slug=row.slug,
        name=row.name,
        description=row.description,
        skill_count=row.skill_count,
        file_count=row.file_count,
        size=row.size,
        skills=skills or [],
    )


def refuse_bad_id(share_id: str) -> str:
    if not isinstance(share_id, str) or not is_share_id(share_id):
        raise errors.NotFound(NOT_FOUND)
    return share_id.lower()


def unique_slug(slug: str, taken: set[str]) -> str:
    """§8.2: the lower-cased slug, else ``<slug>-copy``, ``<slug>-copy-2``, ... (cut so the
    result stays a valid slug)."""
    base = slug.strip().lower() or FALLBACK_SLUG
    if base not in taken:
        return base
    n = 1
    while True:
        suffix = "-copy" if n == 1 else f"-copy-{n}"
        candidate = base[: MAX_SLUG - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


def _markdown_target(path: str) -> str:
    return f"<{path}>" if any(c in path for c in " ()<>") else path


def share_link(
    key: str,
    skill: ShareSkill,
    source_path: str,
    keys: dict[str, str],
    skills: dict[str, ShareSkill],
    files: dict[str, tuple[ShareSkill, ShareFile]],
) -> Callable[[mentions.Token], str]:
    """Renders a mention in ``source_path`` of ``skill`` as a link relative to that file among
    the installed share folders."""
    here = posixpath.dirname(f"{key}/{source_path}")

    def label(token: mentions.Token) -> str:
        if token.draft:
            return f"`(unknown {token.kind})`"
        if token.kind == "skill":
            target = skills.get(token.target)
            if target is None:
                return "`(unknown skill)`"
            text, where = target.name, f"{keys[target.id]}/{SKILL_MD}"
        else:
            found = files.get(token.target)
            if found is None:
                return "`(unknown resource)`"
            owner, f = found
            text = f.path if owner.id == skill.id else f"{owner.name}: {f.path}"
            where = f"{keys[owner.id]}/{f.path}"
        text = text.replace("[", "\\[").replace("]", "\\]")
        return f"[{text}]({_markdown_target(posixpath.relpath(where, here))})"

    return label
