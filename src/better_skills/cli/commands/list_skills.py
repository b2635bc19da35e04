"""``better-skills list [QUERY]``: the skills of your vaults, newest first, as a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.output import safe
from better_skills.cli.skill_online import (
    SKILL_EPILOG,
    columns,
    open_vault,
    short_time,
    summary,
    vault_slug,
)

__all__ = ["ListOptions", "command", "run"]

PAGE_MAX = 100


@dataclass(frozen=True)
class ListOptions:
    query: str | None = None
    vault: str | None = None
    limit: int = 20
    all: bool = False
    as_json: bool = False
    server: str | None = None


@click.command("list", epilog=SKILL_EPILOG)
@click.argument("query", required=False)
@click.option("--vault", metavar="VAULT", help="Only this vault (slug or id).")
@click.option(
    "--limit",
    type=click.IntRange(1, PAGE_MAX),
    default=20,
    show_default=True,
    help="At most this many skills.",
)
@click.option("--all", "all_", is_flag=True, help="Every skill (follows every page).")
@json_option
@server_option
@click.pass_context
def command(
    ctx: click.Context,
    query: str | None,
    vault: str | None,
    limit: int,
    all_: bool,
    as_json: bool,
    server: str | None,
) -> int:
    """List the skills of your vaults, newest first; QUERY filters by name, slug or
    description."""
    options = ListOptions(query, vault, limit, all_, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def run(options: ListOptions, deps: Deps) -> int:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    with open_vault(deps, options.server) as vault_api:
        while True:
            page = vault_api.list_skills(
                query=options.query,
                vault=options.vault,
                limit=PAGE_MAX if options.all else options.limit,
                cursor=cursor,
            )
            items += page["items"]
            cursor = page["next_cursor"] if isinstance(page["next_cursor"], str) else None
            if not options.all or not cursor:
                break
    if options.as_json:
        deps.out.json({"items": [summary(s) for s in items], "next_cursor": cursor})
        return 0
    if not items:
        deps.out.info("No skills found." if options.query else "You have no skills yet.")
        return 0
    rows = [
        (
            safe(s.get("name"), max_length=60),
            safe(vault_slug(s), max_length=60),
            safe(s.get("slug"), max_length=100),
            short_time(s.get("updated_at")),
        )
        for s in items
    ]
    for line in columns(rows, ("NAME", "VAULT", "SLUG", "UPDATED")):
        deps.out.data(line)
    if cursor:
        deps.out.info(f"More skills: --limit {PAGE_MAX} or --all shows them.")
    return 0
