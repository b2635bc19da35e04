"""The data the sync planner works on: the server's manifest, the lock, what is on disk.

Plain frozen dataclasses, no I/O: ``store.py`` reads and writes them, ``plan.py`` compares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from better_skills.client.text import clean

__all__ = [
    "DiskState",
    "LinkState",
    "Lock",
    "LockEntry",
    "ManifestItem",
    "SkillOnDisk",
    "Target",
]

LinkKind = Literal["absent", "ours", "copy", "other-link", "foreign"]


@dataclass(frozen=True)
class ManifestItem:
    """One skill of ``GET /api/v1/sync/manifest``."""

    id: str
    vault: dict[str, Any]
    slug: str
    name: str
    description: str
    content_hash: str
    updated_at: str

    @property
    def label(self) -> str:
        vault = str(self.vault.get("name") or "").strip() or "unnamed vault"
        # Names come from the server: printable text only (no escape sequences), issue 18.
        return clean(f"{vault} / {self.name}", max_length=300)


@dataclass(frozen=True)
class Target:
    """Where one agent finds the skill (lock ``targets.<agentId>``)."""

    path: str
    mode: Literal["symlink", "copy"] = "symlink"
    symlink_failed: bool = False
    installed_at: str = ""


@dataclass(frozen=True)
class LockEntry:
    """One ``lock.json`` skill: the original's fields, plus ``contentHash``, ``files`` (path →
    sha256 of what we wrote) and ``origin`` (``vault`` or ``share``). ``raw`` keeps every field
    as read, so fields neither side knows survive a rewrite."""

    key: str
    skill_id: str
    slug: str = ""
    name: str = ""
    description: str = ""
    canonical_path: str = ""
    vault: dict[str, Any] = field(default_factory=dict)
    remote_updated_at: str = ""
    updated_at: str = ""
    targets: dict[str, Target] = field(default_factory=dict)
    content_hash: str | None = None
    files: dict[str, str] | None = None
    #: A digest of (path, size, mtime, inode) of the files when ``files`` was last verified:
    #: while it matches, the files are not read again (git's index does the same).
    fingerprint: str | None = None
    origin: str = "vault"
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        vault = str(self.vault.get("name") or "").strip() or "unnamed vault"
        return clean(f"{vault} / {self.name or self.slug or self.key}", max_length=300)

    @cached_property  # asked several times per skill and sync; fields never change
    def is_share(self) -> bool:
        return (
            self.origin == "share"
            or self.key.startswith("shared-")
            or str(self.vault.get("id", "")).startswith("shared-")
        )


@dataclass(frozen=True)
class Lock:
    entries: dict[str, LockEntry] = field(default_factory=dict)
    updated_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SkillOnDisk:
    """The canonical folder ``<store>/<key>`` as found.

    ``kind``: ``absent``; ``dir`` (a real folder); ``other`` (a file or a symlink: never ours).
    ``files`` (path → sha256, hidden files and the marker left out) is read for folders.
    """

    kind: Literal["absent", "dir", "other"]
    marker: dict[str, Any] | None = None
    files: dict[str, str] | None = None
    #: ``stat_fingerprint`` of the folder when read
    fingerprint: str | None = None


@dataclass(frozen=True)
class LinkState:
    """What is at ``<agent folder>/<key>``.

    ``ours``: a symlink to the canonical folder; ``copy``: a real folder holding our marker (its
    ``files`` hashed); ``other-link``: a symlink anywhere else; ``foreign``: anything else (a
    person's own folder or file); ``absent``: nothing.
    """

    kind: LinkKind
    files: dict[str, str] | None = None


_ABSENT_SKILL = SkillOnDisk("absent")
_ABSENT_LINK = LinkState("absent")


@dataclass(frozen=True)
class DiskState:
    """``links`` is keyed by the path as a string (``f"{folder}/{key}"``, as the lock records
    it): the planner looks up thousands of them per sync."""

    skills: dict[str, SkillOnDisk] = field(default_factory=dict)
    links: dict[str, LinkState] = field(default_factory=dict)

    def skill(self, key: str) -> SkillOnDisk:
        return self.skills.get(key, _ABSENT_SKILL)

    def link(self, path: str | Path) -> LinkState:
        return self.links.get(path if isinstance(path, str) else str(path), _ABSENT_LINK)
