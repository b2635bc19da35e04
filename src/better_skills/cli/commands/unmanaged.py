"""``better-skills unmanaged`` (alias ``get-unmanaged-skills``, original-system.md §6.8): skill
folders in your agents' folders that sync does not manage."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click

from better_skills.cli.common import COMMAND_EPILOG, AppState, Deps, json_option
from better_skills.cli.local import choose_agents, home_of
from better_skills.cli.output import safe
from better_skills.sync.agents import group_folders
from better_skills.sync.store import MARKER_NAME

__all__ = ["UnmanagedOptions", "command", "find_unmanaged", "run", "skill_slug"]


@dataclass(frozen=True)
class UnmanagedOptions:
    as_json: bool = False


@click.command("unmanaged", epilog=COMMAND_EPILOG)
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> int:
    """List skill folders in your agents' folders that better-skills does not manage.

    These are yours: sync never changes them. `better-skills backup` copies them.
    """
    return run(UnmanagedOptions(as_json), Deps.default(ctx.ensure_object(AppState)))


def skill_slug(folder: Path) -> str:
    """The frontmatter ``slug`` (if a non-empty string), else the folder name."""
    try:
        text = (folder / "SKILL.md").read_text("utf-8", errors="replace")
    except OSError:
        return folder.name
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        for line in lines[1:]:
            if line.strip() == "---":
                break
            if line.startswith("slug:"):
                value = line[5:].strip().strip("'\"").strip()
                if value:
                    return value
    return folder.name


def find_unmanaged(folder: Path) -> list[str]:
    """Immediate children (folders or symlinks) with a readable SKILL.md and no marker."""
    names = set()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        path = Path(entry.path)
        if not (entry.is_dir() or entry.is_symlink()):
            continue
        if not os.access(path / "SKILL.md", os.R_OK) or (path / MARKER_NAME).exists():
            continue
        names.add(skill_slug(path))
    return sorted(names)


def run(options: UnmanagedOptions, deps: Deps) -> int:
    out = deps.out
    table, agents = choose_agents(deps)
    home = home_of(deps)
    pairs = [
        (agent, path)
        for agent in agents
        for path in table.all_global_dirs(agent, home=home, environ=deps.environ)
    ]
    found = []
    for group in group_folders(pairs):
        names = find_unmanaged(group.path)
        if names:
            found.append((group, names))
    total = sum(len(names) for _, names in found)
    if options.as_json:
        out.json(
            {
                "count": total,
                "groups": [
                    {"agents": list(g.agents), "dir": str(g.path), "skills": names}
                    for g, names in found
                ],
            }
        )
        return 0
    if not total:
        out.info("no unmanaged skills found")
        return 0
    out.info(f"found {total} unmanaged skill(s)")
    for group, names in found:
        out.data("")
        out.data(f"{group.label(table)} ({group.path})")
        for name in names:
            out.data(f"  {safe(name)}")
    return 0
