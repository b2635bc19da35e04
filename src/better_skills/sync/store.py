"""The canonical store ``~/.better-skills/skills/``: ``lock.json``, install markers, and a
snapshot of what is on disk for the planner (original-system.md §6.1, §6.4, §6.5).

The lock keeps the original's shape and fields so the original CLI can still read it; our own
fields (``contentHash``, ``files``, ``origin``) are additions it ignores. A lock the original
wrote is read as it is: its entries are ours, and the next sync refreshes them (adoption).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from better_skills.sync.files import dump_json, dump_json_rows, read_json, write_atomic
from better_skills.sync.fingerprint import hash_folder, scan_fingerprint, stat_fingerprint
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
    "scan_fingerprint",
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


def _parse_entry(key: str, raw: dict[str, Any]) -> LockEntry | None:
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
        raw=raw,  # parsed from the file for this entry alone: no one else holds it
    )


def parse_lock(data: Any) -> Lock:
    """A lock from parsed JSON; anything unreadable, of another version or invalid is empty.
    Each entry keeps its object of ``data`` as its ``raw`` (not a copy)."""
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
    """``lock.json``, atomically: one line per skill (``dump_json_rows``), any JSON reader's."""
    value = lock_to_json(lock, server_url, updated_at)
    write_atomic(root / LOCK_NAME, dump_json_rows(value, "skills"))


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


def _skill_on_disk(path: str, entry: LockEntry | None) -> SkillOnDisk:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return SkillOnDisk("absent")
    except OSError:
        return SkillOnDisk("other")
    if not stat.S_ISDIR(info.st_mode):
        return SkillOnDisk("other")
    if entry is not None and entry.files is not None and entry.fingerprint:
        try:
            quick = stat_fingerprint(path, entry.files, info)
        except OSError:
            quick = None
        if quick == entry.fingerprint:
            # Unchanged since we verified it: the recorded hashes hold, the marker is not needed.
            return SkillOnDisk("dir", None, dict(entry.files), quick)
    folder = Path(path)
    try:
        fingerprint = scan_fingerprint(folder)
        files = hash_folder(folder)
    except OSError:
        return SkillOnDisk("dir", read_marker(folder), {"": "unreadable"})
    return SkillOnDisk("dir", read_marker(folder), files, fingerprint)


_ABSENT = LinkState("absent")
_OURS = LinkState("ours")
_OTHER_LINK = LinkState("other-link")
_FOREIGN = LinkState("foreign")


def _link_state(path: str, canonical_real: str, real_parent: str, expected: str) -> LinkState:
    """What is at ``path``: ``expected`` is the relative target our link there has. One
    ``readlink`` for a link (the common case), which also says that a path is not a link."""
    try:
        target = os.readlink(path)
    except FileNotFoundError:
        return _ABSENT
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # EINVAL: there is something, and it is not a link
            return _FOREIGN
    else:
        if target == expected:
            return _OURS
        resolved = os.path.normpath(os.path.join(real_parent, target))
        return _OURS if resolved == canonical_real else _OTHER_LINK
    try:
        info = os.lstat(path)
    except OSError:
        return _FOREIGN
    if stat.S_ISDIR(info.st_mode):
        marker = read_marker(Path(path))
        if marker is not None:
            try:
                return LinkState("copy", hash_folder(Path(path)))
            except OSError:
                return _FOREIGN
    return _FOREIGN


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
    base = str(root)
    for key in keys:
        entry = lock.entries.get(key)
        if entry is not None and entry.is_share:
            continue  # shares are left alone: no need to read them
        skills[key] = _skill_on_disk(f"{base}/{key}", entry)
    links: dict[str, LinkState] = {}
    dirs = [str(d) for d in link_dirs]
    root_real = os.path.realpath(root)
    # One realpath per folder, not per link, and the relative target our links there have.
    parents: dict[str, tuple[str, str]] = {}

    def look(parent: str, path: str, key: str, canonical_real: str) -> None:
        found = parents.get(parent)
        if found is None:
            real = os.path.realpath(parent)
            found = parents[parent] = (real, os.path.relpath(root_real, real) + "/")
        real_parent, to_root = found
        links[path] = _link_state(path, canonical_real, real_parent, to_root + key)

    for key in keys:
        canonical_real = f"{root_real}/{key}"
        canonical = f"{base}/{key}"
        if key in wanted:
            for folder in dirs:
                path = f"{folder}/{key}"
                if path not in links and path != canonical:
                    look(folder, path, key, canonical_real)
        entry = lock.entries.get(key)
        if entry is not None and not entry.is_share:
            for target in entry.targets.values():
                path = target.path  # mostly a wanted path, looked at above: no dirname then
                if path not in links and path != canonical:
                    look(os.path.dirname(path), path, key, canonical_real)
    return DiskState(skills, links)
