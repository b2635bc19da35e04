"""``better-skills diff SKILL --from DIR``: what ``update`` would change, file by file.

Compares the folder's files (as ``update`` would send them: hidden files left out) with the
server's, byte for byte: added, removed, modified, and a unified diff for text files.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.output import safe
from better_skills.cli.skill_folder import FolderError, show_path
from better_skills.cli.skill_online import (
    SKILL_EPILOG,
    clean_block,
    identifier,
    label,
    open_vault,
    summary,
)

__all__ = ["DiffOptions", "changes", "command", "run"]

#: Longer diffs are cut (the file is still listed as modified).
MAX_DIFF_LINES = 2000


@dataclass(frozen=True)
class DiffOptions:
    skill: str
    folder: str
    as_json: bool = False
    server: str | None = None


@click.command("diff", epilog=SKILL_EPILOG)
@click.argument("skill", metavar="SKILL")
@click.option("--from", "folder", metavar="DIR", required=True, help="The skill folder.")
@json_option
@server_option
@click.pass_context
def command(ctx: click.Context, skill: str, folder: str, as_json: bool, server: str | None) -> int:
    """Show what `update SKILL --from DIR` would change: files added, removed and modified
    (with a unified diff for text). Exit 0 whether or not there are differences."""
    options = DiffOptions(skill, folder, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def _text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\0" in text else text


def changes(remote: dict[str, bytes], local: dict[str, bytes]) -> dict[str, Any]:
    """The differences between the server's files and the folder's, as the ``--json`` object's
    ``added``/``removed``/``modified`` lists (a diff is ``null`` for a binary file)."""
    modified = []
    for path in sorted(set(remote) & set(local)):
        if remote[path] == local[path]:
            continue
        old, new = _text(remote[path]), _text(local[path])
        diff = None
        if old is not None and new is not None:
            lines = list(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    f"a/{path}",
                    f"b/{path}",
                )
            )
            diff = "".join(lines[:MAX_DIFF_LINES])
        modified.append({"path": path, "binary": diff is None, "diff": diff})
    return {
        "added": sorted(set(local) - set(remote)),
        "removed": sorted(set(remote) - set(local)),
        "modified": modified,
        "unchanged": sum(1 for p in set(remote) & set(local) if remote[p] == local[p]),
    }


def run(options: DiffOptions, deps: Deps) -> int:
    from better_skills.cli.commands.clone import skill_files
    from better_skills.skillfmt.rules import read_folder

    out = deps.out
    wanted = identifier(options.skill)
    root = (deps.cwd or Path.cwd()) / Path(options.folder).expanduser()
    if not root.is_dir():
        raise FolderError("not_a_directory", f"{show_path(root)} is not a folder.")
    local, _problems = read_folder(root)
    with open_vault(deps, options.server) as vault_api:
        skill = vault_api.resolve(wanted, content=True)
    result = changes(skill_files(skill), local)
    if options.as_json:
        out.json({"skill": summary(skill), **result})
        return 0
    if not (result["added"] or result["removed"] or result["modified"]):
        out.info(f"No differences: {show_path(root)} matches {label(skill)}.")
        return 0
    for path in result["added"]:
        out.data(f"{out.style('added', 'green', err=False)}     {safe(path)}")
    for path in result["removed"]:
        out.data(f"{out.style('removed', 'red', err=False)}   {safe(path)}")
    for item in result["modified"]:
        kind = " (binary)" if item["binary"] else ""
        out.data(f"{out.style('modified', 'yellow', err=False)}  {safe(item['path'])}{kind}")
    for item in result["modified"]:
        if item["diff"]:
            out.data()
            out.data(clean_block(item["diff"].rstrip("\n")))
    return 0
