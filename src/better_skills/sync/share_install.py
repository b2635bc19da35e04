"""``install-share``: a share's skills into the store and the agents' folders, without the vault.

Each skill goes to ``<store>/shared-<8 chars of the share id>-<slug>`` (original-system.md §8.3)
through the same safe writes as sync (``store_write.py``: staging folder, ``safe_join``,
``O_EXCL | O_NOFOLLOW``, rename into place; ``links.py``: links only where nothing of the
person's is in the way), and is recorded in ``lock.json`` with ``origin: "share"``: ``sync``
then never updates or prunes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from better_skills.protocol.shares import share_install_key
from better_skills.skillfmt.paths import UnsafePath
from better_skills.sync.agents import FolderGroup
from better_skills.sync.bundle import Bundle
from better_skills.sync.links import LinkMaker, NotOurs
from better_skills.sync.model import Lock, LockEntry, ManifestItem, Target
from better_skills.sync.runlock import sync_lock
from better_skills.sync.store import now_iso, read_lock, read_marker, write_lock
from better_skills.sync.store_write import StoreWriter

__all__ = ["SharePackage", "ShareResult", "SharedSkill", "install_share", "parse_package"]

SOURCE_TYPE = "better-skills-share"


@dataclass(frozen=True)
class SharedSkill:
    bundle: Bundle
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class SharePackage:
    share_id: str
    created_at: str
    skills: list[SharedSkill]


@dataclass
class ShareResult:
    installed: list[str] = field(default_factory=list)  # store keys
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"the share's {what} is missing")
    return value


def parse_package(share_id: str, data: Mapping[str, Any]) -> SharePackage:
    """``GET /api/v1/shares/{id}/bundle`` read with the sync bundle's unpacker; the share id
    is the one asked for, whatever the answer says."""
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise ValueError("the share holds no skills")
    skills = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("a skill of the share is not an object")
        skills.append(
            SharedSkill(
                Bundle.from_json(item),
                _text(item.get("slug"), "slug"),
                _text(item.get("name"), "name"),
                str(item.get("description") or ""),
            )
        )
    created_at = data.get("created_at")
    return SharePackage(share_id, created_at if isinstance(created_at, str) else "", skills)


def share_vault(share_id: str) -> dict[str, Any]:
    """The lock's vault of a shared skill (§8.3)."""
    return {
        "id": f"shared-{share_id}",
        "slug": f"shared-{share_id[:8]}",
        "name": "Shared package",
        "type": "system_default",
        "color": None,
        "isReadOnly": True,
    }


def install_share(
    root: Path,
    groups: Sequence[FolderGroup],
    package: SharePackage,
    *,
    server_url: str,
    copy_only: bool = False,
    symlink: Callable[[str, Path], None] = os.symlink,
    lock_wait: float = 5.0,
) -> ShareResult:
    """Install every skill of ``package``; the lock is written once, at the end."""
    result = ShareResult()
    vault = share_vault(package.share_id)
    with sync_lock(root, wait=lock_wait):
        lock = read_lock(root)
        entries = dict(lock.entries)
        writer = StoreWriter(root)
        links = LinkMaker(root, copy_only=copy_only, symlink=symlink)
        writer.clean_staging()
        stamp = now_iso()
        seen: set[str] = set()
        for skill in package.skills:
            key = share_install_key(package.share_id, skill.slug)
            label = f"Shared package / {skill.name}"
            if key in seen:
                result.failed.append((label, f"two skills of the share want the folder {key}"))
                continue
            seen.add(key)
            canonical = root / key
            old = entries.get(key)
            if (
                os.path.lexists(canonical)
                and os.path.isdir(canonical)
                and not os.path.islink(canonical)
                and (old is None or not old.is_share)
                and read_marker(canonical) is None
            ):
                result.skipped.append((label, f"{canonical} is not ours: left alone"))
                continue
            item = ManifestItem(
                id=skill.bundle.id,
                vault=vault,
                slug=skill.slug,
                name=skill.name,
                description=skill.description,
                content_hash=skill.bundle.content_hash,
                updated_at=package.created_at,
            )
            try:
                files, fingerprint = writer.write_skill(key, item, skill.bundle, stamp)
            except (OSError, UnsafePath, ValueError) as exc:
                message = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
                result.failed.append((label, f"not installed: {message}"))
                continue
            targets: dict[str, Target] = {}
            for group in groups:
                path = group.path / key
                try:
                    target = links.make(path, canonical, stamp)
                except NotOurs:
                    result.skipped.append((label, f"{path} is not ours: left alone"))
                    continue
                except OSError as exc:
                    result.failed.append((label, f"cannot write in {group.path}: {exc.strerror}"))
                    continue
                for agent in group.agents:
                    targets[agent] = target
            entries[key] = LockEntry(
                key=key,
                skill_id=item.id,
                slug=item.slug,
                name=item.name,
                description=item.description,
                canonical_path=str(canonical),
                vault=vault,
                remote_updated_at=package.created_at,
                updated_at=stamp,
                targets=targets,
                content_hash=item.content_hash,
                files=files,
                fingerprint=fingerprint,
                origin="share",
                raw={
                    "source": {
                        "type": SOURCE_TYPE,
                        "serverUrl": server_url,
                        "shareId": package.share_id,
                    }
                },
            )
            result.installed.append(key)
        write_lock(root, Lock(entries, lock.updated_at, lock.raw), server_url, stamp)
        writer.clean_staging()
    return result
