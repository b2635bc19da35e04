"""The sync planner: a pure function from (manifest, lock, disk snapshot, agent folders) to a
plan, in the manner of uv's install plan. ``sync --dry-run`` prints the plan; ``apply.py``
carries it out. No I/O here, so the rules are tested directly (and with hypothesis).

The rules that keep a person's files safe live here:
- a skill whose files differ from what the lock (or our marker) says we wrote is *modified*: it
  is kept, not updated or removed, unless ``force``;
- only what the lock records (or a folder holding our marker) is ever removed or replaced; a
  person's own folder at a link path is reported and left alone;
- skills installed from a share are never pruned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from better_skills.skillfmt.paths import install_key
from better_skills.sync.agents import FolderGroup
from better_skills.sync.model import DiskState, Lock, LockEntry, ManifestItem, SkillOnDisk

__all__ = ["Action", "Plan", "installed_hash", "is_modified", "make_plan", "wanted_keys"]

ActionKind = Literal["install", "update", "relink", "remove", "keep", "skip"]


@dataclass(frozen=True)
class Action:
    """One thing to do (or not do) for one install key.

    ``links``: link paths to (re)create; ``unlinks``: link paths of ours to delete (agents no
    longer selected, moved folders). ``reason`` says why, for ``--dry-run`` and the summary.
    """

    kind: ActionKind
    key: str
    label: str
    reason: str = ""
    item: ManifestItem | None = None
    links: tuple[Path, ...] = ()
    unlinks: tuple[Path, ...] = ()

    @property
    def changes(self) -> bool:
        return self.kind not in ("keep", "skip")

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.kind,
            "key": self.key,
            "skill": self.label,
            "id": self.item.id if self.item else None,
            "reason": self.reason,
            "links": [str(p) for p in self.links],
            "unlinks": [str(p) for p in self.unlinks],
        }


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()
    #: key -> the manifest item wanted there (what the lock will record after apply)
    wanted: dict[str, ManifestItem] = field(default_factory=dict)

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.changes]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def of_kind(self, *kinds: str) -> list[Action]:
        return [a for a in self.actions if a.kind in kinds]

    def fetch_ids(self) -> list[str]:
        """The skills whose files must be downloaded (one bundle request per 200)."""
        return [a.item.id for a in self.actions if a.kind in ("install", "update") and a.item]


def installed_hash(entry: LockEntry | None, disk: SkillOnDisk) -> str | None:
    """The server content hash of what is in the store folder, if we know it.

    The marker is checked first: a sync killed after writing a folder but before writing the
    lock left a marker that matches the files, and that marker is the truth.
    """
    marker = disk.marker or {}
    if (
        disk.files is not None
        and isinstance(marker.get("files"), dict)
        and marker["files"] == disk.files
        and isinstance(marker.get("contentHash"), str)
    ):
        return str(marker["contentHash"])
    if entry is not None and entry.files is not None and entry.files == disk.files:
        return entry.content_hash
    return None


def is_modified(entry: LockEntry | None, disk: SkillOnDisk) -> bool:
    """Files in the store folder differ from what we wrote (lock or marker)."""
    if disk.kind != "dir" or disk.files is None:
        return False
    if installed_hash(entry, disk) is not None:
        return False
    # Written by the original CLI (no hashes recorded anywhere): we cannot tell, so not modified.
    marker_files = (disk.marker or {}).get("files")
    return (entry is not None and entry.files is not None) or isinstance(marker_files, dict)


def item_key(item: ManifestItem) -> str:
    """The store folder name of a manifest item (original-system.md §6.3)."""
    return _install_key(str(item.vault.get("slug") or ""), item.slug)


#: Each sync asks for every item's key twice (disk snapshot, then plan): computed once.
_install_key = cache(install_key)


def wanted_keys(manifest: Iterable[ManifestItem]) -> list[str]:
    return list(dict.fromkeys(item_key(item) for item in manifest))


def make_plan(
    manifest: Sequence[ManifestItem],
    lock: Lock,
    disk: DiskState,
    groups: Sequence[FolderGroup],
    *,
    store: Path,
    force: bool = False,
) -> Plan:
    """Compare the three states and say what to do; see the module docstring for the rules."""
    actions: list[Action] = []
    wanted: dict[str, ManifestItem] = {}
    folders = [str(g.path) for g in groups]
    for item in manifest:
        key = item_key(item)
        if key in wanted:
            other = wanted[key]
            actions.append(
                Action("skip", key, item.label, f"same folder name as {other.label}", item)
            )
            continue
        wanted[key] = item

    for key, item in wanted.items():
        actions.extend(_plan_wanted(key, item, lock.entries.get(key), disk, folders, force=force))

    for key, entry in lock.entries.items():
        if key in wanted or entry.is_share:
            continue
        actions.append(_plan_stale(key, entry, disk, store=store, force=force))
    return Plan(tuple(actions), wanted)


def _plan_wanted(
    key: str,
    item: ManifestItem,
    entry: LockEntry | None,
    disk: DiskState,
    folders: Sequence[str],
    *,
    force: bool,
) -> Iterable[Action]:
    on_disk = disk.skill(key)
    if entry is not None and entry.is_share:
        return [Action("skip", key, item.label, "a skill from a share has this folder name", item)]
    if entry is None and on_disk.kind == "dir" and on_disk.marker is None:
        return [
            Action(
                "skip", key, item.label, "a folder not made by better-skills is in the store", item
            )
        ]
    if on_disk.kind == "other":
        return [
            Action(
                "skip",
                key,
                item.label,
                "a file or link not made by better-skills is in the store",
                item,
            )
        ]

    # Link paths (strings: this runs for every skill of every sync): what each selected folder
    # needs, and which recorded paths are no longer wanted.
    wanted_paths = [f"{folder}/{key}" for folder in folders]
    recorded = {t.path for t in entry.targets.values()} if entry else set()
    modified = is_modified(entry, on_disk) or _copies_modified(entry, on_disk, disk)
    notes: list[Action] = []
    links: list[str] = []
    for path in wanted_paths:
        state = disk.link(path)
        current = state.kind == "ours" or (
            state.kind == "copy" and _copy_current(on_disk, state.files)
        )
        if current:
            continue
        if state.kind == "foreign" or (
            state.kind in ("other-link", "copy") and path not in recorded
        ):
            notes.append(Action("skip", key, item.label, f"{path} is not ours: left alone", item))
        else:
            links.append(path)
    unlinks = sorted(
        p for p in recorded if p not in wanted_paths and disk.link(p).kind in ("ours", "copy")
    )

    current = installed_hash(entry, on_disk) if on_disk.kind == "dir" else None
    if entry is not None and entry.files is None and current is None and on_disk.kind == "dir":
        content_ok = False  # written by the original CLI: refresh it once, as ours
        reason = "adopt the original CLI's install"
    else:
        content_ok = (
            on_disk.kind == "dir"
            and current == item.content_hash
            and (entry is None or entry.skill_id == item.id)
            and (on_disk.marker or {}).get("skillId", item.id) == item.id
        )
        reason = "new" if entry is None and on_disk.kind == "absent" else "changed on the server"
        if on_disk.kind == "absent" and entry is not None:
            reason = "missing from the store"
    copies = [
        p for p in wanted_paths if disk.link(p).kind == "copy" and p not in links and p in recorded
    ]

    if modified and not force:
        keep_reason = "edited here: kept (use --force to replace)"
        actions = [Action("keep", key, item.label, keep_reason, item)]
        # The files stay as they are; links to them may still be made or removed, but a copy
        # (edited or not) is never replaced while the skill is kept.
        links = [p for p in links if disk.link(p).kind != "copy"]
        unlinks = [p for p in unlinks if disk.link(p).kind != "copy"]
        if links or unlinks:
            actions.append(_relink(key, item, "links missing or wrong", links, unlinks))
        return [*actions, *notes]
    if not content_ok or modified:
        kind = "install" if entry is None and on_disk.kind == "absent" else "update"
        if modified:
            reason = "edited here: replaced (--force)"
        # Copies hold the old files: they are refreshed too.
        return [
            Action(kind, key, item.label, reason, item, _paths([*links, *copies]), _paths(unlinks)),
            *notes,
        ]
    if entry is None:
        # Our folder (marker) in the store but no lock entry: record it and make the links.
        return [_relink(key, item, "recorded in the lock", links, unlinks), *notes]
    if links or unlinks:
        return [_relink(key, item, "links missing or wrong", links, unlinks), *notes]
    return notes


def _relink(
    key: str, item: ManifestItem, reason: str, links: Sequence[str], unlinks: Sequence[str]
) -> Action:
    """Make the missing links and remove the unwanted ones; the files stay as they are."""
    return Action("relink", key, item.label, reason, item, _paths(links), _paths(unlinks))


def _paths(paths: Iterable[str]) -> tuple[Path, ...]:
    return tuple(Path(p) for p in paths)


def _copy_current(on_disk: SkillOnDisk, files: dict[str, str] | None) -> bool:
    return files is not None and on_disk.files is not None and files == on_disk.files


def _copies_modified(entry: LockEntry | None, on_disk: SkillOnDisk, disk: DiskState) -> bool:
    """A copy (symlinks refused) whose files were edited in the agent's folder."""
    if entry is None or entry.files is None:
        return False
    for target in entry.targets.values():
        if target.mode != "copy":
            continue
        state = disk.link(target.path)
        if state.kind == "copy" and state.files != entry.files and state.files != on_disk.files:
            return True
    return False


def _plan_stale(key: str, entry: LockEntry, disk: DiskState, *, store: Path, force: bool) -> Action:
    """A lock entry the server no longer sends: removed, unless edited here."""
    on_disk = disk.skill(key)
    if (is_modified(entry, on_disk) or _copies_modified(entry, on_disk, disk)) and not force:
        return Action("keep", key, entry.label, "removed on the server but edited here: kept")
    unlinks = _paths(
        sorted(
            {t.path for t in entry.targets.values() if disk.link(t.path).kind in ("ours", "copy")}
        )
    )
    return Action(
        "remove",
        key,
        entry.label,
        "no longer on the server (or its vault is disabled)",
        unlinks=unlinks,
    )
