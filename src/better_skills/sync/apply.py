"""The sync executor: carries out a plan from ``plan.py`` on disk, safely.

- A skill is written into a fresh temporary folder inside the store (``.staging/``) and renamed
  into place, so a killed sync never leaves a half-written skill; the marker in each folder
  records the hashes written, so the next sync recognises it even if the lock was not written.
- Server paths go through ``safe_join`` (PEP 706-style: checked to stay inside the folder before
  anything is written) and files are created with ``O_EXCL | O_NOFOLLOW``.
- Anything at a path is looked at with ``lstat`` first: a symlink is removed, never followed; a
  folder is removed only when it holds our marker; anything else is left alone and reported.
- Links are relative symlinks; when the filesystem refuses, a copy (recorded as such).
- The lock file is written once, at the end, and only when it changed.
- A ``flock`` on ``<store>/.sync.lock`` is held for the whole run.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from better_skills.client.errors import ApiError, ClientError
from better_skills.skillfmt.hashing import content_hash, file_sha256
from better_skills.skillfmt.paths import UnsafePath, safe_join
from better_skills.sync.agents import FolderGroup
from better_skills.sync.files import remove_stale_temps
from better_skills.sync.model import (
    DiskState,
    Lock,
    LockEntry,
    ManifestItem,
    SkillOnDisk,
    Target,
)
from better_skills.sync.plan import Action, Plan
from better_skills.sync.store import (
    MARKER_NAME,
    marker_json,
    now_iso,
    read_marker,
    stat_fingerprint,
    write_lock,
)

__all__ = [
    "BUNDLE_BATCH",
    "Bundle",
    "Executor",
    "SyncBusy",
    "SyncResult",
    "sync_lock",
]

#: The server's limit on ids per ``POST /api/v1/sync/bundle``.
BUNDLE_BATCH = 200
STAGING = ".staging"
LOCK_FILE = ".sync.lock"
#: The store's state files, written atomically (a killed write leaves a temporary file).
STATE_FILES = ("lock.json", ".manifest-cache.json")


class SyncBusy(ClientError):
    """Another sync holds the store's lock."""


@dataclass(frozen=True)
class Bundle:
    """One skill's files from ``POST /api/v1/sync/bundle``: path → bytes."""

    id: str
    content_hash: str
    files: Mapping[str, bytes]

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Bundle:
        files: dict[str, bytes] = {}
        for f in value.get("files") or []:
            path = f.get("path")
            if not isinstance(path, str):
                raise ValueError("a file without a path")
            if isinstance(f.get("content"), str):
                files[path] = f["content"].encode("utf-8")
            elif isinstance(f.get("content_base64"), str):
                import base64

                files[path] = base64.b64decode(f["content_base64"], validate=True)
            else:
                raise ValueError(f"{path}: no content")
        return cls(str(value.get("id")), str(value.get("content_hash") or ""), files)


Fetch = Callable[[Sequence[str]], Mapping[str, Bundle]]


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    relinked: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    lock_written: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "relinked": self.relinked,
            "removed": self.removed,
            "kept": [{"skill": s, "reason": r} for s, r in self.kept],
            "skipped": [{"skill": s, "reason": r} for s, r in self.skipped],
            "failed": [{"skill": s, "error": e} for s, e in self.failed],
        }


@contextmanager
def sync_lock(root: Path, *, wait: float = 5.0) -> Iterator[None]:
    """Hold ``<store>/.sync.lock`` (``flock``) for the run; wait up to ``wait`` seconds."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SyncBusy(
                        f"another sync is running on {root}; try again when it has finished"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _rmtree(path: Path, *, ignore_errors: bool = False) -> None:
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


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


class Executor:
    """Applies plans to one store and a set of agent folders."""

    def __init__(
        self,
        root: Path,
        groups: Sequence[FolderGroup],
        *,
        server_url: str,
        copy_only: bool = False,
        symlink: Callable[[str, Path], None] = os.symlink,
        now: Callable[[], str] = now_iso,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.root = root
        self.groups = list(groups)
        self.server_url = server_url
        self.copy_only = copy_only
        self.symlink = symlink
        self.now = now
        self.progress = progress
        self._real_parents: dict[Path, str] = {}
        self._real_root: str | None = None
        self._staging_made = False

    # -- the run ----------------------------------------------------------------------------

    def apply(self, plan: Plan, lock: Lock, disk: DiskState, fetch: Fetch) -> SyncResult:
        result = SyncResult()
        self.removed: set[str] = set()  # link paths removed in this run
        self.kept_links: set[str] = set()  # link paths of ours we failed to remove
        entries = dict(lock.entries)
        modes: dict[Path, Target] = {}  # link paths made in this run
        stamp = self.now()
        self.root.mkdir(parents=True, exist_ok=True)
        self._clean_staging()

        for action in plan.actions:
            if action.kind == "keep":
                result.kept.append((action.label, action.reason))
            elif action.kind == "skip":
                result.skipped.append((action.label, action.reason))

        content = plan.of_kind("install", "update")
        total = len(content) + len(plan.of_kind("relink", "remove"))
        done = 0
        fetch_failed: str | None = None
        written: set[str] = set()  # keys whose files this run wrote
        for start in range(0, len(content), BUNDLE_BATCH):
            batch = content[start : start + BUNDLE_BATCH]
            bundles: Mapping[str, Bundle] = {}
            if fetch_failed is None:
                try:
                    bundles = fetch([a.item.id for a in batch if a.item])
                except ApiError as exc:
                    fetch_failed = exc.message
            for action in batch:
                assert action.item is not None
                bundle = bundles.get(action.item.id)
                if bundle is None:
                    result.failed.append(
                        (action.label, fetch_failed or "the server did not send its files")
                    )
                    continue
                try:
                    files, fingerprint = self._write_skill(action.key, action.item, bundle, stamp)
                except (OSError, UnsafePath, ValueError) as exc:
                    message = _describe(exc) if isinstance(exc, OSError) else str(exc)
                    result.failed.append((action.label, f"not installed: {message}"))
                    continue
                entries[action.key] = self._entry(
                    action.key,
                    action.item,
                    entries.get(action.key),
                    bundle.content_hash,
                    files,
                    stamp,
                    fingerprint,
                )
                written.add(action.key)
                (result.added if action.kind == "install" else result.updated).append(action.label)
                self._links(action, modes, result, stamp)
                done += 1
                self._report(done, total)

        for action in plan.of_kind("relink"):
            if action.key not in entries and action.item is not None:
                marker = read_marker(self.root / action.key) or {}
                entries[action.key] = self._entry(
                    action.key,
                    action.item,
                    None,
                    str(marker.get("contentHash") or action.item.content_hash),
                    dict(marker.get("files") or {}),
                    stamp,
                    disk.skill(action.key).fingerprint,
                )
            if self._links(action, modes, result, stamp):
                result.relinked.append(action.label)
            done += 1
            self._report(done, total)

        for action in plan.of_kind("remove"):
            if fetch_failed is not None:
                break  # like the original: no pruning after a failed download
            if self._remove(action, result):
                entries.pop(action.key, None)
            done += 1
            self._report(done, total)

        new_lock = Lock(
            self._retarget(entries, plan, disk, modes, written), lock.updated_at, lock.raw
        )
        if new_lock.entries != lock.entries:
            write_lock(self.root, new_lock, self.server_url, stamp)
            result.lock_written = True
        self._clean_staging()
        return result

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    # -- the store --------------------------------------------------------------------------

    def _clean_staging(self) -> None:
        """Leftovers of a killed sync (we hold the lock: nobody else is using them)."""
        remove_stale_temps(self.root, STATE_FILES)
        staging = self.root / STAGING
        self._staging_made = False
        if os.path.lexists(staging):
            if os.path.islink(staging) or not staging.is_dir():
                os.unlink(staging)
            else:
                _rmtree(staging, ignore_errors=True)

    def _write_skill(
        self, key: str, item: ManifestItem, bundle: Bundle, stamp: str
    ) -> tuple[dict[str, str], str]:
        """Write the files into a temporary folder, then rename it to ``<store>/<key>``."""
        staging = self.root / STAGING
        if not self._staging_made:  # once per run, not once per skill
            staging.mkdir(exist_ok=True)
            self._staging_made = True
        temp = _mkdtemp("new-", staging)
        try:
            return self._fill_and_swap(temp, key, item, bundle, stamp)
        except BaseException:
            # At once, not at the end of the run: on a full disk the space of this skill's
            # partial files is what the other skills and the lock need.
            _rmtree(temp, ignore_errors=True)
            raise

    def _fill_and_swap(
        self, temp: Path, key: str, item: ManifestItem, bundle: Bundle, stamp: str
    ) -> tuple[dict[str, str], str]:
        hashes: dict[str, str] = {}
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        made = {temp}  # folders that exist: a first sync makes thousands, each mkdir is slow
        for path, data in bundle.files.items():
            dest = safe_join(temp, path)  # raises UnsafePath: nothing lands outside the folder
            if dest.parent not in made:
                dest.parent.mkdir(parents=True, exist_ok=True)
                made.add(dest.parent)
            try:
                fd = os.open(dest, flags, 0o644)
            except FileExistsError:
                raise ValueError(f"the server sent {path!r} twice") from None
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
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
        fd = os.open(temp / MARKER_NAME, flags, 0o644)
        try:
            _write_all(fd, marker)
        finally:
            os.close(fd)
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
            old = _mkdtemp("old-", self.root / STAGING)
            os.rename(canonical, old / "skill")
            try:
                os.rename(new, canonical)
            except OSError:
                os.rename(old / "skill", canonical)  # the old version stays installed
                raise
            _rmtree(old, ignore_errors=True)
        else:  # a file or a planted symlink: removed, never followed
            os.unlink(canonical)
            os.rename(new, canonical)

    def _entry(
        self,
        key: str,
        item: ManifestItem,
        old: LockEntry | None,
        digest: str,
        files: dict[str, str],
        stamp: str,
        fingerprint: str | None,
    ) -> LockEntry:
        return LockEntry(
            key=key,
            skill_id=item.id,
            slug=item.slug,
            name=item.name,
            description=item.description,
            canonical_path=str(self.root / key),
            vault=dict(item.vault),
            remote_updated_at=item.updated_at,
            updated_at=stamp,
            targets=dict(old.targets) if old else {},
            content_hash=digest,
            files=files,
            fingerprint=fingerprint,
            origin="vault",
            raw=dict(old.raw) if old else {},
        )

    # -- links ------------------------------------------------------------------------------

    def _links(
        self, action: Action, modes: dict[Path, Target], result: SyncResult, stamp: str
    ) -> bool:
        """Remove ``unlinks``, make ``links``; failures are reported. True if all went well."""
        ok = True
        for path in action.unlinks:
            try:
                self._remove_link(path)
                self.removed.add(str(path))
            except _NotOurs:
                result.skipped.append((action.label, f"{path} is not ours: left alone"))
            except OSError as exc:
                result.failed.append((action.label, f"cannot remove {path}: {_describe(exc)}"))
                self.kept_links.add(str(path))
                ok = False
        canonical = self.root / action.key
        for path in action.links:
            try:
                modes[path] = self._make_link(path, canonical, stamp)
            except _NotOurs:
                result.skipped.append((action.label, f"{path} is not ours: left alone"))
            except OSError as exc:
                where = path.parent
                result.failed.append((action.label, f"cannot write in {where}: {_describe(exc)}"))
                ok = False
        return ok

    def _real_parent(self, parent: Path) -> str:
        """The agent folder made if missing, and its real path: once per folder and run, not
        once per link (``realpath`` costs an ``lstat`` per component of the path)."""
        real = self._real_parents.get(parent)
        if real is None:
            parent.mkdir(parents=True, exist_ok=True)
            real = self._real_parents[parent] = os.path.realpath(parent)
        return real

    def _make_link(self, path: Path, canonical: Path, stamp: str) -> Target:
        real_parent = self._real_parent(path.parent)
        self._remove_link(path)
        if not self.copy_only:
            # The store folder is a real folder (just written, or found as one by lstat), so
            # its real path is the store's real path and its name.
            if self._real_root is None:
                self._real_root = os.path.realpath(self.root)
            real_canonical = os.path.join(self._real_root, canonical.name)
            target = os.path.relpath(real_canonical, real_parent)
            try:
                self.symlink(target, path)
                return Target(str(path), "symlink", False, stamp)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EROFS, errno.ENOSPC, errno.EEXIST):
                    raise  # not a refusal of symlinks: a real problem with the folder
        import shutil

        shutil.copytree(canonical, path, symlinks=False)
        return Target(str(path), "copy", not self.copy_only, stamp)

    def _remove_link(self, path: Path) -> None:
        """Remove our symlink or copy at ``path``; anything else raises :class:`_NotOurs`."""
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(info.st_mode):
            os.unlink(path)
        elif stat.S_ISDIR(info.st_mode) and read_marker(path) is not None:
            _rmtree(path)
        else:
            raise _NotOurs(path)

    def _remove(self, action: Action, result: SyncResult) -> bool:
        ok = self._links(action, {}, result, "")
        canonical = self.root / action.key
        try:
            info = os.lstat(canonical)
        except FileNotFoundError:
            info = None
        try:
            if info is None:
                pass
            elif stat.S_ISDIR(info.st_mode):
                staging = self.root / STAGING
                staging.mkdir(exist_ok=True)
                old = _mkdtemp("old-", staging)
                os.rename(canonical, old / "skill")
                _rmtree(old, ignore_errors=True)
            else:
                os.unlink(canonical)
        except OSError as exc:
            result.failed.append((action.label, f"cannot remove {canonical}: {_describe(exc)}"))
            return False
        if ok:
            result.removed.append(action.label)
        return ok

    # -- the lock ---------------------------------------------------------------------------

    def _retarget(
        self,
        entries: dict[str, LockEntry],
        plan: Plan,
        disk: DiskState,
        made: dict[Path, Target],
        written: set[str],
    ) -> dict[str, LockEntry]:
        """Each wanted skill's ``targets``: the selected agents whose folder now has our link
        (made in this run, or found by the snapshot); links we failed to remove stay recorded,
        so a later sync removes them."""
        made_s = {str(p): t for p, t in made.items()}
        folders = [(str(g.path), g.agents) for g in self.groups]
        out = dict(entries)
        for key, entry in entries.items():
            if entry.is_share or key not in plan.wanted:
                continue
            old = entry.targets
            by_path = {t.path: t for t in old.values()}
            targets: dict[str, Target] = {}
            wanted_paths = set()
            for folder, agents in folders:
                path = f"{folder}/{key}"
                wanted_paths.add(path)
                target = made_s.get(path)
                if target is None:
                    kind = disk.link(path).kind
                    if kind not in ("ours", "copy") or path in self.removed:
                        continue
                    mode = "copy" if kind == "copy" else "symlink"
                    previous = by_path.get(path)
                    target = previous if previous and previous.mode == mode else Target(path, mode)
                for agent in agents:
                    prev = old.get(agent)
                    same = (
                        prev is not None and prev.path == target.path and prev.mode == target.mode
                    )
                    targets[agent] = prev if same and prev is not None else target
            for agent, t in old.items():
                if (
                    agent not in targets
                    and t.path not in wanted_paths
                    and t.path in self.kept_links
                ):
                    targets[agent] = t
            item = plan.wanted[key]
            vault = item.vault if entry.skill_id == item.id else entry.vault
            if targets != old or vault != entry.vault:  # a no-op sync makes no new entries
                out[key] = replace(entry, targets=targets, vault=dict(vault))
            if key not in written:
                adopted = _from_marker(out[key], disk.skill(key), item)
                out[key] = _refingerprint(adopted, disk.skill(key))
        return out


def _refingerprint(entry: LockEntry, on_disk: SkillOnDisk) -> LockEntry:
    """Files verified equal to the lock's hashes: remember their stat fingerprint, so the next
    sync does not read them again."""
    if (
        on_disk.fingerprint is not None
        and entry.fingerprint != on_disk.fingerprint
        and entry.files is not None
        and entry.files == on_disk.files
    ):
        return replace(entry, fingerprint=on_disk.fingerprint)
    return entry


def _from_marker(entry: LockEntry, on_disk: SkillOnDisk, item: ManifestItem) -> LockEntry:
    """A sync killed after renaming a skill into place but before writing the lock left the
    lock behind the folder; the folder's marker (matching its files) says what was written,
    and the manifest item it was written from (same id and hash) what the lock says of it."""
    marker = on_disk.marker or {}
    if (
        on_disk.files is None
        or entry.files == on_disk.files
        or marker.get("files") != on_disk.files
        or marker.get("skillId") != entry.skill_id
        or not isinstance(marker.get("contentHash"), str)
    ):
        return entry
    adopted = replace(
        entry,
        files=dict(on_disk.files),
        fingerprint=on_disk.fingerprint,
        content_hash=marker["contentHash"],
        updated_at=str(marker.get("installedAt") or entry.updated_at),
    )
    if item.id != entry.skill_id or item.content_hash != marker["contentHash"]:
        return adopted
    return replace(
        adopted,
        slug=item.slug,
        name=item.name,
        description=item.description,
        remote_updated_at=item.updated_at,
    )


class _NotOurs(Exception):
    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path
