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
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from better_skills.skillfmt.hashing import file_sha256
from better_skills.sync.files import dump_json, dump_json_rows, read_json, write_atomic
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


def _walk(folder: str, prefix: str, visit: Callable[[str, os.DirEntry[str]], None]) -> None:
    """Every non-hidden entry under ``folder``, symlinks not followed: ``visit`` gets the files
    (and symlinks and other non-directories) and the folders (their path ending in ``/``)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                visit(rel + "/", entry)
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
        if rel.endswith("/"):
            return
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


# -- stat fingerprints ------------------------------------------------------------------------
#
# A fingerprint is a digest of (path, mode, size, mtime, ctime, inode) of a skill folder, of
# each of its files and of each folder holding them, as git's index keeps for each file. While
# it matches, the files are as they were when their hashes were recorded, and are not read
# again. Checking it takes one ``lstat`` per path that the lock records (no directory listing):
# a file added, removed or renamed anywhere in the folder changes the mtime of the folder it is
# in, which is the skill folder or one of its sub-folders, all of which are stat'ed. That holds
# only when every (non-hidden) sub-folder holds a recorded file; a folder with an empty
# sub-folder of its own gets no fingerprint, and is hashed each time. ctime is in it because a
# program can set mtime back (``touch -d``) but not ctime.

FINGERPRINT_PREFIX = "v2:"


def _stat_line(rel: str, info: os.stat_result) -> str:
    return (
        f"{rel}\0{info.st_mode}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}"
        f"\0{info.st_ino}"
    )


def _folders_of(files: Iterable[str]) -> set[str]:
    """``""`` (the skill folder) and every folder (``a/``, ``a/b/``) above ``files``."""
    folders = {""}
    for path in files:
        cut = path.rfind("/")
        while cut > 0:
            folder = path[: cut + 1]
            if folder in folders:
                break
            folders.add(folder)
            cut = path.rfind("/", 0, cut)
    return folders


@lru_cache(maxsize=64)
def _sub_folders(files: tuple[str, ...]) -> tuple[str, ...]:
    """The folders below the skill folder that hold ``files``: skills mostly share a few
    layouts, so each is worked out once per run, not once per skill."""
    return tuple(sorted(f for f in _folders_of(files) if f))


def _digest(lines: list[str]) -> str:
    lines.sort()
    return FINGERPRINT_PREFIX + file_sha256("\n".join(lines).encode("utf-8", "surrogateescape"))


def stat_fingerprint(
    folder: Path | str, files: Iterable[str], root_info: os.stat_result | None = None
) -> str:
    """The fingerprint of ``folder`` holding exactly ``files`` (their paths, ``/``-separated):
    one ``lstat`` per file and per folder. Raises ``OSError`` when one is missing."""
    base = str(folder)
    lines = [_stat_line("", root_info if root_info is not None else os.lstat(base))]
    names = tuple(files)
    for rel in _sub_folders(names):  # "a/b/" as "a/b": with the slash, lstat follows a symlink
        lines.append(_stat_line(rel, os.lstat(f"{base}/{rel[:-1]}")))
    for rel in names:
        lines.append(_stat_line(rel, os.lstat(f"{base}/{rel}")))
    return _digest(lines)


def scan_fingerprint(folder: Path) -> str | None:
    """The fingerprint of ``folder`` as found by listing it (before its files are hashed, so a
    change made while they are read shows up next time); ``None`` when it cannot have one."""
    lines = [_stat_line("", os.lstat(folder))]
    files: list[str] = []
    folders = {""}

    def visit(rel: str, entry: os.DirEntry[str]) -> None:
        lines.append(_stat_line(rel, entry.stat(follow_symlinks=False)))
        if rel.endswith("/"):
            folders.add(rel)
        else:
            files.append(rel)

    _walk(str(folder), "", visit)
    if folders != _folders_of(files):
        return None  # a sub-folder without files: stat'ing the files would not see into it
    return _digest(lines)


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
