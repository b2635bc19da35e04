"""One sync, start to end: manifest (cached with its ETag), plan, and (unless a dry run) apply.

The command module handles the terminal; this module is what the benchmark and tests drive.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from better_skills.client.errors import ClientError
from better_skills.sync.agents import AgentTable, FolderGroup
from better_skills.sync.apply import Executor, SyncResult, sync_lock
from better_skills.sync.files import dump_compact_json, read_json, write_atomic
from better_skills.sync.model import ManifestItem
from better_skills.sync.plan import Plan, make_plan, wanted_keys
from better_skills.sync.remote import Manifest, Remote, parse_manifest
from better_skills.sync.store import read_disk_state, read_lock, store_root

__all__ = ["LINK_MODE_ENV", "SyncOutcome", "SyncRequest", "run_sync"]

MANIFEST_CACHE = ".manifest-cache.json"
#: ``copy`` makes copies instead of symlinks (for filesystems or tools that mishandle links).
LINK_MODE_ENV = "BETTER_SKILLS_LINK_MODE"


@dataclass(frozen=True)
class SyncRequest:
    home: Path
    environ: Mapping[str, str]
    agents: Sequence[str]
    server_url: str
    project: Path | None = None
    dry_run: bool = False
    force: bool = False
    include_disabled: bool = False
    lock_wait: float = 5.0


@dataclass
class SyncOutcome:
    plan: Plan
    groups: list[FolderGroup]
    root: Path
    result: SyncResult | None = None
    requests: int = 0


def _manifest(
    remote: Remote, root: Path, request: SyncRequest, *, save: bool
) -> tuple[ManifestItem, ...]:
    """The manifest, from the server or (on 304) from the cache beside the lock."""
    cache_path = root / MANIFEST_CACHE
    cache = read_json(cache_path)
    usable = (
        isinstance(cache, dict)
        and cache.get("server") == request.server_url
        and cache.get("includeDisabled") == request.include_disabled
        and isinstance(cache.get("etag"), str)
        and isinstance(cache.get("manifest"), dict)
    )
    etag = cache["etag"] if usable else None  # type: ignore[index]
    fresh: Manifest | None = remote.manifest(include_disabled=request.include_disabled, etag=etag)
    if fresh is None:
        return parse_manifest(cache["manifest"]).items  # type: ignore[index]
    if save and fresh.etag:
        write_atomic(
            cache_path,
            dump_compact_json(
                {
                    "server": request.server_url,
                    "includeDisabled": request.include_disabled,
                    "etag": fresh.etag,
                    "manifest": fresh.raw,
                }
            ),
        )
    return fresh.items


def run_sync(
    request: SyncRequest,
    remote: Remote,
    table: AgentTable,
    *,
    progress: Callable[[int, int], None] | None = None,
    symlink: Callable[[str, Path], None] = os.symlink,
) -> SyncOutcome:
    root = store_root(request.home, request.project)
    groups = table.install_dirs(
        request.agents, home=request.home, environ=request.environ, project=request.project
    )

    def compute() -> SyncOutcome:
        manifest = _manifest(remote, root, request, save=not request.dry_run)
        lock = read_lock(root)
        disk = read_disk_state(root, lock, wanted_keys(manifest), [g.path for g in groups])
        plan = make_plan(manifest, lock, disk, groups, store=root, force=request.force)
        outcome = SyncOutcome(plan, groups, root)
        if not request.dry_run:
            executor = Executor(
                root,
                groups,
                server_url=request.server_url,
                copy_only=request.environ.get(LINK_MODE_ENV, "").strip().lower() == "copy",
                symlink=symlink,
                progress=progress,
            )
            outcome.result = executor.apply(plan, lock, disk, remote.bundle)
        outcome.requests = remote.requests
        return outcome

    try:
        if request.dry_run:
            return compute()
        with sync_lock(root, wait=request.lock_wait):
            return compute()
    except OSError as exc:
        # The store itself cannot be used (read-only home, a planted symlink at the lock...):
        # one sentence, not a traceback. Failures of single skills are reported by the executor.
        where = exc.filename or root
        raise ClientError(
            f"cannot use the skills store at {root}: {where}: {exc.strerror or exc}"
        ) from None
