"""Writing and removing skill folders in the store, so that a killed sync leaves no half-skill.

- A skill is written into a fresh temporary folder inside the store (``.staging/``) and renamed
  into place; the marker in it records the hashes written, so the next sync recognises it even
  if the lock was not written.
- Server paths go through ``safe_join`` (PEP 706-style: checked to stay inside the folder before
  anything is written) and files are created with ``O_EXCL | O_NOFOLLOW``.
- What is at the canonical path is looked at with ``lstat``: a folder is moved aside (then
  deleted), a file or a planted symlink is removed, never followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from better_skills.skillfmt.hashing import content_hash, file_sha256
from better_skills.skillfmt.paths import safe_join
from better_skills.sync.bundle import Bundle
from better_skills.sync.files import remove_stale_temps
from better_skills.sync.model import ManifestItem
from better_skills.sync.store import MARKER_NAME, marker_json, stat_fingerprint

__all__ = ["STAGING", "STATE_FILES", "StoreWriter", "describe", "rmtree"]

STAGING = ".staging"
#: The store's state files, written atomically (a killed write leaves a temporary file).
STATE_FILES = ("lock.json", ".manifest-cache.json")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def rmtree(path: Path, *, ignore_errors: bool = False) -> None:
    import shutil  # shutil and tempfile only when something is written: a no-op sync skips them

    shutil.rmtree(path, ignore_errors=ignore_errors)


def _mkdtemp(prefix: str, folder: Path) -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix=prefix, dir=folder))


def _write_all(fd: int, data: bytes) -> None:
    """``data`` to ``fd`` without a buffered file around it (which costs an ``ioctl`` and an
    ``lseek`` per file)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_new(path: Path, data: bytes) -> None:
    """A new file (never an existing one, never through a symlink) holding ``data``."""
    fd = os.open(path, _CREATE, 0o644)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


class StoreWriter:
    """Writes skills into one store (``root``); the caller holds the run's lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._staging_made = False

    def clean_staging(self) -> None:
        """Leftovers of a killed sync (we hold the lock: nobody else is using them)."""
        remove_stale_temps(self.root, STATE_FILES)
        staging = self.root / STAGING
        self._staging_made = False
        if os.path.lexists(staging):
            if os.path.islink(staging) or not staging.is_dir():
                os.unlink(staging)
            else:
                rmtree(staging, ignore_errors=True)

    def _staging(self) -> Path:
        staging = self.root / STAGING
        if not self._staging_made:  # once per run, not once per skill
            staging.mkdir(exist_ok=True)
            self._staging_made = True
        return staging

    def write_skill(
        self, key: str, item: ManifestItem, bundle: Bundle, stamp: str
    ) -> tuple[dict[str, str], str]:
        """Write the files into a temporary folder, then rename it to ``<store>/<key>``; the
        files' hashes and the folder's stat fingerprint. Raises ``OSError``, ``UnsafePath``
        (a path from the server that would land outside the folder) or ``ValueError``."""
        temp = _mkdtemp("new-", self._staging())
        try:
            return self._fill_and_swap(temp, key, item, bundle, stamp)
        except BaseException:
            # At once, not at the end of the run: on a full disk the space of this skill's
            # partial files is what the other skills and the lock need.
            rmtree(temp, ignore_errors=True)
            raise

    def _fill_and_swap(
        self, temp: Path, key: str, item: ManifestItem, bundle: Bundle, stamp: str
    ) -> tuple[dict[str, str], str]:
        hashes: dict[str, str] = {}
        made = {temp}  # folders that exist: a first sync makes thousands, each mkdir is slow
        for path, data in bundle.files.items():
            dest = safe_join(temp, path)  # raises UnsafePath: nothing lands outside the folder
            if dest.parent not in made:
                dest.parent.mkdir(parents=True, exist_ok=True)
                made.add(dest.parent)
            try:
                _write_new(dest, data)
            except FileExistsError:
                raise ValueError(f"the server sent {path!r} twice") from None
            hashes[path] = file_sha256(data)
        digest = bundle.content_hash or content_hash(hashes.items())
        marker = marker_json(
            skill_id=item.id,
            slug=item.slug,
            name=item.name,
            vault=item.vault,
            installed_at=stamp,
            content_hash=digest,
            files=hashes,
        )
        _write_new(temp / MARKER_NAME, marker)
        self._swap_in(temp, self.root / key)
        # Every folder in it holds a file (none is made empty): the quick fingerprint applies.
        return hashes, stat_fingerprint(self.root / key, hashes)

    def _swap_in(self, new: Path, canonical: Path) -> None:
        try:
            info = os.lstat(canonical)
        except FileNotFoundError:
            os.rename(new, canonical)
            return
        if stat.S_ISDIR(info.st_mode):
            old = _mkdtemp("old-", self._staging())
            os.rename(canonical, old / "skill")
            try:
                os.rename(new, canonical)
            except OSError:
                os.rename(old / "skill", canonical)  # the old version stays installed
                raise
            rmtree(old, ignore_errors=True)
        else:  # a file or a planted symlink: removed, never followed
            os.unlink(canonical)
            os.rename(new, canonical)

    def remove_skill(self, key: str) -> None:
        """Remove ``<store>/<key>``: a folder is first renamed aside (a killed sync leaves it
        whole or gone), anything else unlinked. Raises ``OSError``."""
        canonical = self.root / key
        try:
            info = os.lstat(canonical)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            old = _mkdtemp("old-", self._staging())
            os.rename(canonical, old / "skill")
            rmtree(old, ignore_errors=True)
        else:
            os.unlink(canonical)
