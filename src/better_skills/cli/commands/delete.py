"""``better-skills delete SKILL [--yes]``: delete a skill (asks first on a terminal)."""

from __future__ import annotations

from dataclasses import dataclass

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.skill_online import SKILL_EPILOG, identifier, label, open_vault, summary
from better_skills.client.errors import ClientError

__all__ = ["DeleteOptions", "command", "run"]


@dataclass(frozen=True)
class DeleteOptions:
    skill: str
    yes: bool = False
    as_json: bool = False
    server: str | None = None


@click.command("delete", epilog=SKILL_EPILOG)
@click.argument("skill", metavar="SKILL")
@click.option("--yes", "-y", is_flag=True, help="Do not ask (required without a terminal).")
@json_option
@server_option
@click.pass_context
def command(ctx: click.Context, skill: str, yes: bool, as_json: bool, server: str | None) -> int:
    """Delete SKILL (an id, VAULT/SLUG or SLUG) from its vault.

    Asks for confirmation on a terminal; without one (a script), --yes is required.
    """
    options = DeleteOptions(skill, yes, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def run(options: DeleteOptions, deps: Deps) -> int:
    out = deps.out
    wanted = identifier(options.skill)
    if not options.yes and not deps.interactive:
        raise click.UsageError("Not a terminal: pass --yes to delete without confirmation.")
    with open_vault(deps, options.server) as vault_api:
        skill = vault_api.resolve(wanted)
        if not options.yes and not out.confirm(f"Delete {label(skill)}? It cannot be undone."):
            raise ClientError("Nothing was deleted.")
        # If-Match: what was confirmed is what is deleted (a change meanwhile is exit 5).
        etag = skill.get("etag") if isinstance(skill.get("etag"), str) else None
        vault_api.delete(str(skill["id"]), if_match=etag)
    if options.as_json:
        out.json({"skill": summary(skill), "deleted": True})
        return 0
    out.success(f"Deleted {label(skill)}.")
    return 0
