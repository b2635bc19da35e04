"""The agents' side of a sync: a relative symlink per skill in each agent folder, or a copy
where the filesystem refuses symlinks (recorded as such in the lock).

Only our own things are ever removed: a symlink (never followed), or a folder holding our
marker (a copy we made). Anything else at a link path raises :class:`NotOurs`: the caller
reports it and leaves it alone.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from better_skills.sync.model import Target
from better_skills.sync.store import read_marker
from better_skills.sync.store_write import rmtree

__all__ = ["LinkMaker", "NotOurs"]


class NotOurs(Exception):
    """Something of the person's own is at a link path."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


class LinkMaker:
    """Makes and removes the links of one store (``root``) for one run."""

    def __init__(
        self,
        root: Path,
        *,
        copy_only: bool = False,
        symlink: Callable[[str, Path], None] = os.symlink,
    ) -> None:
        self.root = root
        self.copy_only = copy_only
        self.symlink = symlink
        self._real_parents: dict[Path, str] = {}
        self._real_root: str | None = None

    def _real_parent(self, parent: Path) -> str:
        """The agent folder made if missing, and its real path: once per folder and run, not
        once per link (``realpath`` costs an ``lstat`` per component of the path)."""
        real = self._real_parents.get(parent)
        if real is None:
            parent.mkdir(parents=True, exist_ok=True)
            real = self._real_parents[parent] = os.path.realpath(parent)
        return real

    def make(self, path: Path, canonical: Path, stamp: str) -> Target:
        """Our link at ``path`` to the store folder ``canonical`` (replacing ours, if any)."""
        real_parent = self._real_parent(path.parent)
        if not self.copy_only:
            # The store folder is a real folder (just written, or found as one by lstat), so
            # its real path is the store's real path and its name.
            if self._real_root is None:
                self._real_root = os.path.realpath(self.root)
            real_canonical = os.path.join(self._real_root, canonical.name)
            target = os.path.relpath(real_canonical, real_parent)
            try:
                self._symlink_over(target, path)
                return Target(str(path), "symlink", False, stamp)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EROFS, errno.ENOSPC, errno.EEXIST):
                    raise  # not a refusal of symlinks: a real problem with the folder
        self.remove(path)
        import shutil

        shutil.copytree(canonical, path, symlinks=False)
        return Target(str(path), "copy", not self.copy_only, stamp)

    def _symlink_over(self, target: str, path: Path) -> None:
        """The link made at once where the path is free (a first sync: no ``lstat`` before
        each of thousands of links); where something is there, it is removed first if it is
        ours (:meth:`remove` raises :class:`NotOurs` otherwise), then the link made."""
        try:
            self.symlink(target, path)
        except FileExistsError:
            self.remove(path)
            self.symlink(target, path)

    def remove(self, path: Path) -> None:
        """Remove our symlink or copy at ``path``; anything else raises :class:`NotOurs`."""
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(info.st_mode):
            os.unlink(path)
        elif stat.S_ISDIR(info.st_mode) and read_marker(path) is not None:
            rmtree(path)
        else:
            raise NotOurs(path)
