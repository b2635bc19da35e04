"""``better-skills search QUERY [--limit N]``: ranked search over your skills."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.output import safe
from better_skills.cli.skill_online import SKILL_EPILOG, label, open_vault, summary

__all__ = ["SearchOptions", "command", "run"]


@dataclass(frozen=True)
class SearchOptions:
    query: str
    limit: int = 20
    as_json: bool = False
    server: str | None = None


@click.command("search", epilog=SKILL_EPILOG)
@click.argument("query")
@click.option(
    "--limit", type=click.IntRange(1, 100), default=20, show_default=True, help="At most N hits."
)
@json_option
@server_option
@click.pass_context
def command(ctx: click.Context, query: str, limit: int, as_json: bool, server: str | None) -> int:
    """Search the skills you can read for QUERY (name, slug, description and content), best
    match first; each hit says where it matched, with a snippet."""
    if not query.strip():
        raise click.UsageError("QUERY is empty.")
    options = SearchOptions(query, limit, as_json, server)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def hit_json(hit: dict[str, Any]) -> dict[str, Any]:
    return {**summary(hit), **{k: hit.get(k) for k in ("match", "score", "snippet")}}


def run(options: SearchOptions, deps: Deps) -> int:
    out = deps.out
    with open_vault(deps, options.server) as vault_api:
        found = vault_api.search(options.query, limit=options.limit)
    hits = found["items"]
    if options.as_json:
        exact = found.get("total_exact", True) is not False
        out.json(
            {"items": [hit_json(h) for h in hits], "total": found["total"], "total_exact": exact}
        )
        return 0
    if not hits:
        out.info(f"No skill matches {safe(options.query, max_length=100)!r}.")
        return 0
    for hit in hits:
        match = safe(hit.get("match") or "", max_length=20)
        out.data(f"{out.style(label(hit), 'bold', err=False)}  ({match})")
        description = safe(hit.get("description") or "", max_length=200)
        if description:
            out.data(f"  {description}")
        snippet = hit.get("snippet")
        if snippet:
            out.data(f"  … {safe(snippet, max_length=300)} …")
    total = found["total"]
    if isinstance(total, int) and total > len(hits):
        # Past the server's counting cap, total is a lower bound (total_exact false).
        more = "" if found["total_exact"] else "+"
        out.info(f"{len(hits)} of {total}{more} hits; --limit shows more.")
    return 0
