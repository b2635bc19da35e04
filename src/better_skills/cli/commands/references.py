"""``better-skills references SKILL``: which skills mention this one (or its files)."""

from __future__ import annotations

from dataclasses import dataclass

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.output import safe
from better_skills.cli.skill_online import (
    SKILL_EPILOG,
    identifier,
    label,
    open_vault,
    summary,
)

__all__ = ["ReferencesOptions", "command", "run"]


@dataclass(frozen=True)
class ReferencesOptions:
    skill: str
    as_json: bool = False
    server: str | None = None


@click.command("references", epilog=SKILL_EPILOG)
@click.argument("skill", metavar="SKILL")
@json_option
@server_option
@click.pass_context
def command(ctx: click.Context, skill: str, as_json: bool, server: str | None) -> int:
    """List the skills whose files mention SKILL (an id, VAULT/SLUG or SLUG) or its files."""
    options = ReferencesOptions(skill, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def run(options: ReferencesOptions, deps: Deps) -> int:
    out = deps.out
    wanted = identifier(options.skill)
    with open_vault(deps, options.server) as vault_api:
        skill = vault_api.resolve(wanted)
        items = vault_api.references(str(skill["id"]))
    mentions = [
        (item["skill"], item.get("via_path"))
        for item in items
        if isinstance(item.get("skill"), dict)
    ]
    if options.as_json:
        out.json(
            {
                "skill": summary(skill),
                "items": [{"skill": summary(s), "via_path": via} for s, via in mentions],
            }
        )
        return 0
    if not mentions:
        out.info(f"No skill mentions {label(skill)}.")
        return 0
    for other, via in mentions:
        where = f"  (via {safe(via, max_length=200)})" if via else ""
        out.data(f"{label(other)}{where}")
    return 0
