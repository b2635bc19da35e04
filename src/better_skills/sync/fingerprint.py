"""What an installed skill folder holds, told cheaply: its files' hashes (``hash_folder``),
and a fingerprint of their ``lstat`` results (``stat_fingerprint``), which lets a no-op sync
see that nothing was edited without reading a byte (docs/performance-sync.md)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from better_skills.skillfmt.hashing import file_sha256


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
