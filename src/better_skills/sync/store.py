"""The canonical store ``~/.better-skills/skills/``: ``lock.json``, install markers, and a
snapshot of what is on disk for the planner (original-system.md §6.1, §6.4, §6.5).

The lock keeps the original's shape and fields so the original CLI can still read it; our own
fields (``contentHash``, ``files``, ``origin``) are additions it ignores. A lock the original
wrote is read as it is: its entries are ours, and the next sync refreshes them (adoption).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from better_skills.skillfmt.hashing import file_sha256
from better_skills.sync.files import dump_json, read_json, write_atomic
from better_skills.sync.model import DiskState, LinkState, Lock, LockEntry, SkillOnDisk, Target

__all__ = [
    "LOCK_NAME",
    "LOCK_VERSION",
    "MARKER_NAME",
    "hash_folder",
    "lock_to_json",
    "marker_json",
    "now_iso",
    "parse_lock",
    "read_disk_state",
    "read_lock",
    "stat_fingerprint",
    "store_root",
    "write_lock",
]

LOCK_NAME = "lock.json"
LOCK_VERSION = 1
MARKER_NAME = ".better-skills-install.json"
SOURCE_TYPE = "better-skills-api"


def now_iso(moment: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, as JavaScript's ``toISOString()``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def store_root(home: Path, project: Path | None = None) -> Path:
    """``~/.better-skills/skills`` (home, never XDG, as the original); in a project,
    ``<project>/.better-skills/skills``."""
    return (project if project is not None else home) / ".better-skills" / "skills"


# -- lock.json ------------------------------------------------------------------------------


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _parse_entry(key: str, raw: Mapping[str, Any]) -> LockEntry | None:
    skill_id = raw.get("skillId")
    if not isinstance(skill_id, str) or not skill_id:
        return None
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    assert isinstance(source, dict)
    vault = source.get("vault") if isinstance(source.get("vault"), dict) else {}
    targets: dict[str, Target] = {}
    raw_targets = raw.get("targets")
    if isinstance(raw_targets, dict):
        for agent_id, t in raw_targets.items():
            if isinstance(t, dict) and isinstance(t.get("path"), str) and t["path"]:
                targets[agent_id] = Target(
                    path=t["path"],
                    mode="copy" if t.get("mode") == "copy" else "symlink",
                    symlink_failed=bool(t.get("symlinkFailed", False)),
                    installed_at=_str(t.get("installedAt")),
                )
    files = raw.get("files")
    if not (
        isinstance(files, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
    ):
        files = None
    content_hash = raw.get("contentHash")
    return LockEntry(
        key=key,
        skill_id=skill_id,
        slug=_str(raw.get("slug")),
        name=_str(raw.get("name")),
        description=_str(raw.get("description")),
        canonical_path=_str(raw.get("canonicalPath")),
        vault=dict(vault or {}),
        remote_updated_at=_str(source.get("remoteUpdatedAt")),
        updated_at=_str(raw.get("updatedAt")),
        targets=targets,
        content_hash=content_hash if isinstance(content_hash, str) else None,
        files=dict(files) if files is not None else None,
        fingerprint=raw["statFingerprint"] if isinstance(raw.get("statFingerprint"), str) else None,
        origin="share" if raw.get("origin") == "share" else "vault",
        raw=dict(raw),
    )


def parse_lock(data: Any) -> Lock:
    """A lock from parsed JSON; anything unreadable, of another version or invalid is empty."""
    if not isinstance(data, dict) or data.get("version") != LOCK_VERSION:
        return Lock()
    skills = data.get("skills")
    if not isinstance(skills, dict):
        return Lock()
    entries = {}
    for key, raw in skills.items():
        if isinstance(key, str) and isinstance(raw, dict):
            entry = _parse_entry(key, raw)
            if entry is not None:
                entries[key] = entry
    return Lock(entries, _str(data.get("updatedAt")), dict(data))


def read_lock(root: Path) -> Lock:
    return parse_lock(read_json(root / LOCK_NAME))


def entry_to_json(entry: LockEntry, server_url: str) -> dict[str, Any]:
    """The original's fields first (its reader needs them), ours after; unknown raw fields kept."""
    raw_source = entry.raw.get("source") if isinstance(entry.raw.get("source"), dict) else {}
    source = dict(raw_source or {})
    source.update(
        {
            "type": source.get("type") or SOURCE_TYPE,
            "serverUrl": source.get("serverUrl") if entry.is_share else server_url,
            "vault": entry.vault,
            "remoteUpdatedAt": entry.remote_updated_at,
        }
    )
    source.setdefault("sourceUrl", None)
    source.setdefault("sourceIdentifier", None)
    value = dict(entry.raw)
    value.update(
        {
            "skillId": entry.skill_id,
            "slug": entry.slug,
            "name": entry.name,
            "description": entry.description,
            "canonicalPath": entry.canonical_path,
            "source": source,
            "updatedAt": entry.updated_at,
            "targets": {
                agent: {
                    "path": t.path,
                    "mode": t.mode,
                    "symlinkFailed": t.symlink_failed,
                    "installedAt": t.installed_at,
                }
                for agent, t in sorted(entry.targets.items())
            },
            "origin": entry.origin,
        }
    )
    if entry.content_hash is not None:
        value["contentHash"] = entry.content_hash
    if entry.files is not None:
        value["files"] = dict(sorted(entry.files.items()))
    if entry.fingerprint is not None:
        value["statFingerprint"] = entry.fingerprint
    else:
        value.pop("statFingerprint", None)
    return value


def lock_to_json(lock: Lock, server_url: str, updated_at: str) -> dict[str, Any]:
    value = {k: v for k, v in lock.raw.items() if k not in ("version", "updatedAt", "skills")}
    return {
        "version": LOCK_VERSION,
        "updatedAt": updated_at,
        **value,
        "skills": {
            key: entry_to_json(lock.entries[key], server_url) for key in sorted(lock.entries)
        },
    }


def write_lock(root: Path, lock: Lock, server_url: str, updated_at: str) -> None:
    write_atomic(root / LOCK_NAME, dump_json(lock_to_json(lock, server_url, updated_at)))


# -- marker -----------------------------------------------------------------------------------


def marker_json(
    *,
    skill_id: str,
    slug: str,
    name: str,
    vault: Mapping[str, Any],
    installed_at: str,
    content_hash: str,
    files: Mapping[str, str],
) -> bytes:
    """``.better-skills-install.json``: the original's fields, plus the hashes we wrote (so a
    sync killed before its lock write can tell its own files from a person's edits)."""
    return dump_json(
        {
            "skillId": skill_id,
            "slug": slug,
            "name": name,
            "vault": dict(vault),
            "installedAt": installed_at,
            "contentHash": content_hash,
            "files": dict(sorted(files.items())),
        }
    )


def read_marker(folder: Path) -> dict[str, Any] | None:
    data = read_json(folder / MARKER_NAME)
    return data if isinstance(data, dict) else None


# -- disk snapshot ----------------------------------------------------------------------------


def _walk(folder: str, prefix: str, visit: Callable[[str, os.DirEntry[str]], None]) -> None:
    """Every non-hidden entry under ``folder`` that is not a directory, symlinks not followed."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                _walk(entry.path, rel + "/", visit)
            else:
                visit(rel, entry)


def hash_folder(folder: Path) -> dict[str, str]:
    """path → sha256 of every file under ``folder``, without following symlinks.

    Hidden files and folders (the marker among them) are left out, as they are never uploaded.
    A symlink inside is recorded as ``symlink:<target>`` so it counts as a change, never read.
    """
    result: dict[str, str] = {}

    def visit(rel: str, entry: os.DirEntry[str]) -> None:
        if entry.is_symlink():
            result[rel] = "symlink:" + os.readlink(entry.path)
        elif entry.is_file(follow_symlinks=False):
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as handle:
                result[rel] = file_sha256(handle.read())
        else:
            result[rel] = "special"

    _walk(str(folder), "", visit)
    return result


def stat_fingerprint(folder: Path) -> str:
    """A digest of every file's (path, type, size, mtime, inode): cheap to recompute, and it
    changes whenever a file is written, replaced, added or removed."""
    parts: list[str] = []

    def visit(rel: str, entry: os.DirEntry[str]) -> None:
        info = entry.stat(follow_symlinks=False)
        parts.append(f"{rel}\0{info.st_mode}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}")

    _walk(str(folder), "", visit)
    parts.sort()
    return file_sha256("\n".join(parts).encode("utf-8", "surrogateescape"))


def _skill_on_disk(path: Path, entry: LockEntry | None) -> SkillOnDisk:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return SkillOnDisk("absent")
    except OSError:
        return SkillOnDisk("other")
    if not stat.S_ISDIR(info.st_mode):
        return SkillOnDisk("other")
    try:
        fingerprint = stat_fingerprint(path)
        if entry is not None and entry.files is not None and entry.fingerprint == fingerprint:
            # Unchanged since we verified it: the recorded hashes hold, the marker is not needed.
            return SkillOnDisk("dir", None, dict(entry.files), fingerprint)
        files = hash_folder(path)
    except OSError:
        return SkillOnDisk("dir", read_marker(path), {"": "unreadable"})
    return SkillOnDisk("dir", read_marker(path), files, fingerprint)


def _link_state(path: str, canonical_real: str, real_parent: str) -> LinkState:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return LinkState("absent")
    except OSError:
        return LinkState("foreign")
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        resolved = os.path.normpath(os.path.join(real_parent, target))
        if resolved == canonical_real:
            return LinkState("ours")
        return LinkState("other-link")
    if stat.S_ISDIR(info.st_mode):
        marker = read_marker(Path(path))
        if marker is not None:
            try:
                return LinkState("copy", hash_folder(Path(path)))
            except OSError:
                return LinkState("foreign")
    return LinkState("foreign")


def read_disk_state(
    root: Path,
    lock: Lock,
    wanted_keys: Iterable[str],
    link_dirs: Iterable[Path],
) -> DiskState:
    """Everything the planner needs from disk: the store folders of the lock's and the
    manifest's keys (hashed when the lock records them), and what sits at every link path
    (``<dir>/<key>`` for each wanted key and each folder, and every path the lock records)."""
    wanted = set(wanted_keys)
    keys = list(dict.fromkeys([*lock.entries, *wanted]))
    skills = {}
    for key in keys:
        entry = lock.entries.get(key)
        if entry is not None and entry.is_share:
            continue  # shares are left alone: no need to read them
        skills[key] = _skill_on_disk(root / key, entry)
    links: dict[str, LinkState] = {}
    dirs = [str(d) for d in link_dirs]
    root_real = os.path.realpath(root)
    real_parents: dict[str, str] = {}  # one realpath per folder, not per link
    for key in keys:
        paths = [f"{d}/{key}" for d in dirs] if key in wanted else []
        entry = lock.entries.get(key)
        if entry is not None and not entry.is_share:
            paths += [t.path for t in entry.targets.values()]
        canonical_real = f"{root_real}/{key}"
        for path in paths:
            if path in links or path == f"{root}/{key}":
                continue
            parent = os.path.dirname(path)
            if parent not in real_parents:
                real_parents[parent] = os.path.realpath(parent)
            links[path] = _link_state(path, canonical_real, real_parents[parent])
    return DiskState(skills, links)
