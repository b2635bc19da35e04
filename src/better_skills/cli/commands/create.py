"""``better-skills create --from DIR [--slug S] [--vault V]``: upload a new skill.

The folder is checked first (``skillfmt.rules.check_folder``: nothing is sent when it has
errors), then sent in one request; draft mentions ``[[resource:new:<path>]]`` are resolved by
the server. The folder gets the clone marker, so a later ``update`` knows where it went.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.skill_online import (
    SKILL_EPILOG,
    checked_folder,
    label,
    marker_for,
    open_vault,
    summary,
    uploads,
    write_marker,
)

__all__ = ["CreateOptions", "command", "run"]


@dataclass(frozen=True)
class CreateOptions:
    folder: str
    slug: str | None = None
    vault: str | None = None
    as_json: bool = False
    server: str | None = None


@click.command("create", epilog=SKILL_EPILOG)
@click.option("--from", "folder", metavar="DIR", required=True, help="The skill folder.")
@click.option("--slug", metavar="SLUG", help="The slug (default: from the name).")
@click.option("--vault", metavar="VAULT", help="The vault (slug or id; default personal).")
@json_option
@server_option
@click.pass_context
def command(
    ctx: click.Context,
    folder: str,
    slug: str | None,
    vault: str | None,
    as_json: bool,
    server: str | None,
) -> int:
    """Upload the skill folder DIR as a new skill (checked first, one request).

    Exit 5 when the vault already has a skill with that slug.
    """
    options = CreateOptions(folder, slug, vault, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def run(options: CreateOptions, deps: Deps) -> int:
    root, files = checked_folder(deps, options.folder)
    with open_vault(deps, options.server) as vault_api:
        skill = vault_api.create(uploads(files), vault=options.vault, slug=options.slug)
        server = vault_api.api.base_url
    write_marker(root, marker_for(skill, server))
    if options.as_json:
        deps.out.json({"skill": summary(skill), "created": True})
        return 0
    deps.out.success(f"Created {label(skill)} ({len(files)} files).")
    deps.out.data(str(skill.get("id")))
    return 0
