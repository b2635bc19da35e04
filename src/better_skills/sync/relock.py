"""The lock after a run: the entries of the skills written, and each wanted skill's ``targets``
(the agents whose folder now has our link), so that the lock is written once, at the end.

Pure functions of what the run did and the disk snapshot taken before it; no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from better_skills.sync.agents import FolderGroup
from better_skills.sync.model import DiskState, LockEntry, ManifestItem, SkillOnDisk, Target
from better_skills.sync.plan import Plan

__all__ = ["new_entry", "retarget"]


def new_entry(
    root: Path,
    key: str,
    item: ManifestItem,
    old: LockEntry | None,
    digest: str,
    files: dict[str, str],
    stamp: str,
    fingerprint: str | None,
) -> LockEntry:
    """The entry of a skill written (or found written) from ``item`` at ``<root>/<key>``."""
    return LockEntry(
        key=key,
        skill_id=item.id,
        slug=item.slug,
        name=item.name,
        description=item.description,
        canonical_path=str(root / key),
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


def retarget(
    entries: dict[str, LockEntry],
    plan: Plan,
    disk: DiskState,
    groups: list[FolderGroup],
    *,
    made: dict[Path, Target],
    written: set[str],
    removed: set[str],
    kept_links: set[str],
) -> dict[str, LockEntry]:
    """Each wanted skill's ``targets``: the selected agents whose folder now has our link
    (``made`` in this run, or found by the snapshot and not ``removed``); links we failed to
    remove (``kept_links``) stay recorded, so a later sync removes them."""
    made_s = {str(p): t for p, t in made.items()}
    folders = [(str(g.path), g.agents) for g in groups]
    out = dict(entries)
    for key, entry in entries.items():
        if entry.is_share or key not in plan.wanted:
            continue
        old = entry.targets
        targets: dict[str, Target] = {}
        wanted_paths = set()
        for folder, agents in folders:
            path = f"{folder}/{key}"
            wanted_paths.add(path)
            target = made_s.get(path)
            if target is None:
                kind = disk.link(path).kind
                if kind not in ("ours", "copy") or path in removed:
                    continue
                mode = "copy" if kind == "copy" else "symlink"
                previous = next((t for t in old.values() if t.path == path), None)
                target = previous if previous and previous.mode == mode else Target(path, mode)
            for agent in agents:
                prev = old.get(agent)
                same = prev is not None and prev.path == target.path and prev.mode == target.mode
                targets[agent] = prev if same and prev is not None else target
        for agent, t in old.items():
            if agent not in targets and t.path not in wanted_paths and t.path in kept_links:
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
