"""``better-skills status``: what sync installed, for which agents, and in what state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from better_skills.cli.common import COMMAND_EPILOG, AppState, Deps, json_option
from better_skills.cli.local import home_of
from better_skills.cli.output import safe
from better_skills.sync.agents import load_table
from better_skills.sync.config import config_path, load_config
from better_skills.sync.engine import MANIFEST_CACHE
from better_skills.sync.files import read_json
from better_skills.sync.plan import installed_hash, is_modified
from better_skills.sync.store import read_disk_state, read_lock, store_root

__all__ = ["StatusOptions", "command", "run"]


@dataclass(frozen=True)
class StatusOptions:
    project: str | None = None
    as_json: bool = False


@click.command("status", epilog=COMMAND_EPILOG)
@click.option("--project", is_flag=False, flag_value=".", default=None, metavar="[DIR]")
@json_option
@click.pass_context
def command(ctx: click.Context, project: str | None, as_json: bool) -> int:
    """Show the installed skills: agents linked, and which are stale, modified or missing links.

    Works offline: "stale" compares with the server's list from the last sync.
    """
    return run(StatusOptions(project, as_json), Deps.default(ctx.ensure_object(AppState)))


def run(options: StatusOptions, deps: Deps) -> int:
    out = deps.out
    table = load_table()
    home = home_of(deps)
    config = load_config(config_path(deps.environ, home), table)
    agents = config.agents if config else list(table.defaults)
    project = None
    if options.project is not None:
        project = ((deps.cwd or Path.cwd()) / options.project).resolve()
    root = store_root(home, project)
    groups = table.install_dirs(agents, home=home, environ=deps.environ, project=project)
    lock = read_lock(root)
    disk = read_disk_state(root, lock, lock.entries, [g.path for g in groups])
    cache = read_json(root / MANIFEST_CACHE)
    remote: dict[str, str] = {}
    if isinstance(cache, dict) and isinstance(cache.get("manifest"), dict):
        for item in cache["manifest"].get("items") or []:
            if isinstance(item, dict):
                remote[str(item.get("id"))] = str(item.get("content_hash"))

    rows: list[dict[str, Any]] = []
    for key, entry in sorted(lock.entries.items()):
        on_disk = disk.skill(key)
        states = []
        if entry.is_share:
            states.append("share")
        elif on_disk.kind != "dir":
            states.append("missing")
        elif is_modified(entry, on_disk):
            states.append("modified")
        current = installed_hash(entry, on_disk) if on_disk.kind == "dir" else None
        if entry.skill_id in remote and current and remote[entry.skill_id] != current:
            states.append("stale")
        missing_links = [
            str(g.path / key)
            for g in groups
            if not entry.is_share and disk.link(g.path / key).kind not in ("ours", "copy")
        ]
        if missing_links:
            states.append("missing links")
        rows.append(
            {
                "key": key,
                "skill": entry.label,
                "agents": sorted(entry.targets),
                "state": states or ["ok"],
                "missingLinks": missing_links,
            }
        )
    if options.as_json:
        out.json({"store": str(root), "agents": agents, "skills": rows})
        return 0
    if not rows:
        out.data(f"no skills installed in {root}; run `better-skills sync`")
        return 0
    out.data(f"{len(rows)} skill(s) in {root}")
    for row in rows:
        out.data(f"  {row['key']:<40} {', '.join(row['state']):<16} {safe(row['skill'])}")
        out.data(f"      agents: {', '.join(row['agents']) or '(none)'}")
    return 0
