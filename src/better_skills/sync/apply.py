"""The sync executor: carries out a plan from ``plan.py`` on disk, safely.

The order of a run, and what each part is trusted with:

- bundles are fetched :data:`BUNDLE_BATCH` skills per request, each batch written before the
  next is asked for (``bundle.py``);
- each skill is written into a temporary folder in the store and renamed into place
  (``store_write.py``: no half-written skill, no path outside the folder, no symlink followed);
- then its links are made, missing links are made, unwanted ones removed (``links.py``: only
  our own symlinks and copies are removed; anything else is reported and left alone);
- skills the server no longer sends are removed, unless the download failed;
- the lock is written once, at the end, and only when it changed (``relock.py`` computes it).

The caller holds the run's lock file (``runlock.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from better_skills.client.errors import ApiError
from better_skills.skillfmt.paths import UnsafePath
from better_skills.sync.agents import FolderGroup
from better_skills.sync.bundle import BUNDLE_BATCH, Bundle, Fetch
from better_skills.sync.links import LinkMaker, NotOurs
from better_skills.sync.model import DiskState, Lock, Target
from better_skills.sync.plan import Action, Plan
from better_skills.sync.relock import new_entry, retarget
from better_skills.sync.runlock import SyncBusy, sync_lock
from better_skills.sync.store import now_iso, read_marker, write_lock
from better_skills.sync.store_write import StoreWriter, describe

__all__ = [
    "BUNDLE_BATCH",
    "Bundle",
    "Executor",
    "SyncBusy",
    "SyncResult",
    "sync_lock",
]


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
        self.now = now
        self.progress = progress
        self.store = StoreWriter(root)
        self.links = LinkMaker(root, copy_only=copy_only, symlink=symlink)

    def apply(self, plan: Plan, lock: Lock, disk: DiskState, fetch: Fetch) -> SyncResult:
        result = SyncResult()
        self.removed: set[str] = set()  # link paths removed in this run
        self.kept_links: set[str] = set()  # link paths of ours we failed to remove
        entries = dict(lock.entries)
        modes: dict[Path, Target] = {}  # link paths made in this run
        stamp = self.now()
        self.root.mkdir(parents=True, exist_ok=True)
        self.store.clean_staging()

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
                    files, fingerprint = self.store.write_skill(
                        action.key, action.item, bundle, stamp
                    )
                except (OSError, UnsafePath, ValueError) as exc:
                    message = describe(exc) if isinstance(exc, OSError) else str(exc)
                    result.failed.append((action.label, f"not installed: {message}"))
                    continue
                entries[action.key] = new_entry(
                    self.root,
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
                files = dict(marker.get("files") or {})
                on_disk = disk.skill(action.key)
                # The fingerprint vouches for the recorded hashes: not for files edited here
                # (a skill kept because edited, with only its links made).
                fingerprint = on_disk.fingerprint if on_disk.files == files else None
                entries[action.key] = new_entry(
                    self.root,
                    action.key,
                    action.item,
                    None,
                    str(marker.get("contentHash") or action.item.content_hash),
                    files,
                    stamp,
                    fingerprint,
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

        targets = retarget(
            entries,
            plan,
            disk,
            self.groups,
            made=modes,
            written=written,
            removed=self.removed,
            kept_links=self.kept_links,
        )
        new_lock = Lock(targets, lock.updated_at, lock.raw)
        if new_lock.entries != lock.entries:
            write_lock(self.root, new_lock, self.server_url, stamp)
            result.lock_written = True
        self.store.clean_staging()
        return result

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    def _links(
        self, action: Action, modes: dict[Path, Target], result: SyncResult, stamp: str
    ) -> bool:
        """Remove ``unlinks``, make ``links``; failures are reported. True if all went well."""
        ok = True
        for path in action.unlinks:
            try:
                self.links.remove(path)
                self.removed.add(str(path))
            except NotOurs:
                result.skipped.append((action.label, f"{path} is not ours: left alone"))
            except OSError as exc:
                result.failed.append((action.label, f"cannot remove {path}: {describe(exc)}"))
                self.kept_links.add(str(path))
                ok = False
        canonical = self.root / action.key
        for path in action.links:
            try:
                modes[path] = self.links.make(path, canonical, stamp)
            except NotOurs:
                result.skipped.append((action.label, f"{path} is not ours: left alone"))
            except OSError as exc:
                where = path.parent
                result.failed.append((action.label, f"cannot write in {where}: {describe(exc)}"))
                ok = False
        return ok

    def _remove(self, action: Action, result: SyncResult) -> bool:
        """Remove the skill's links, then its store folder; ``False`` if anything failed."""
        ok = self._links(action, {}, result, "")
        try:
            self.store.remove_skill(action.key)
        except OSError as exc:
            where = self.root / action.key
            result.failed.append((action.label, f"cannot remove {where}: {describe(exc)}"))
            return False
        if ok:
            result.removed.append(action.label)
        return ok
