"""``better-skills update SKILL --from DIR [--slug S] [--vault V] [--force]``: replace a skill
with a folder's files (``PUT /api/v1/skills/{id}``, all or nothing).

When the folder came from ``clone`` (or ``create``) its marker holds the ``etag`` it started
from; it goes as ``If-Match``, and a server copy changed since is refused (exit 5) unless
``--force``. ``--vault`` moves the skill.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.skill_online import (
    SKILL_EPILOG,
    checked_folder,
    identifier,
    label,
    marker_for,
    open_vault,
    read_marker,
    summary,
    uploads,
    write_marker,
)
from better_skills.client.errors import Conflict

__all__ = ["UpdateOptions", "command", "run"]


@dataclass(frozen=True)
class UpdateOptions:
    skill: str
    folder: str
    slug: str | None = None
    vault: str | None = None
    force: bool = False
    as_json: bool = False
    server: str | None = None


@click.command("update", epilog=SKILL_EPILOG)
@click.argument("skill", metavar="SKILL")
@click.option("--from", "folder", metavar="DIR", required=True, help="The skill folder.")
@click.option("--slug", metavar="SLUG", help="A new slug.")
@click.option("--vault", metavar="VAULT", help="Move the skill to this vault.")
@click.option("--force", is_flag=True, help="Replace it even if it changed since the clone.")
@json_option
@server_option
@click.pass_context
def command(
    ctx: click.Context,
    skill: str,
    folder: str,
    slug: str | None,
    vault: str | None,
    force: bool,
    as_json: bool,
    server: str | None,
) -> int:
    """Replace SKILL (an id, VAULT/SLUG or SLUG) with the files of DIR.

    Files not in DIR are deleted from the skill. If DIR was cloned and the skill has changed
    on the server since, nothing is replaced and the exit code is 5; --force replaces anyway.
    """
    options = UpdateOptions(skill, folder, slug, vault, force, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def run(options: UpdateOptions, deps: Deps) -> int:
    out = deps.out
    wanted = identifier(options.skill)
    root, files = checked_folder(deps, options.folder)
    marker = read_marker(root)
    with open_vault(deps, options.server) as vault_api:
        current = vault_api.resolve(wanted)
        skill_id = str(current["id"])
        if_match = None
        if marker is not None and marker.skill_id == skill_id:
            if_match = marker.etag
        elif not options.force:
            out.warn(
                "This folder was not cloned from that skill; it replaces the server copy "
                "without checking for changes made there."
            )
        try:
            skill = vault_api.replace(
                skill_id,
                uploads(files),
                slug=options.slug,
                vault=options.vault,
                if_match=None if options.force else if_match,
            )
        except Conflict as exc:
            if exc.data.get("reason") != "stale":
                raise
            raise Conflict(
                f"{label(current)} changed on the server since this folder was cloned; "
                "nothing was replaced.",
                hints=(
                    f"See the changes: better-skills diff {label(current)} --from {options.folder}",
                    "Replace it anyway with --force, or clone it again and redo your edits.",
                ),
                data={"reason": "stale"},
            ) from None
        server = vault_api.api.base_url
    if marker is None or marker.skill_id == skill_id:
        write_marker(root, marker_for(skill, server))
    if options.as_json:
        out.json({"skill": summary(skill), "updated": True})
        return 0
    out.success(f"Updated {label(skill)} ({len(files)} files).")
    return 0
