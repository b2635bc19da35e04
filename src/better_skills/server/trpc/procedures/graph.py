"""``skills.graphForSkill``: the graph around one skill (original-system.md §2.1)."""

from __future__ import annotations

from typing import Any

from better_skills.server.timefmt import iso_ms
from better_skills.server.trpc import shapes
from better_skills.server.trpc.procedures.skill_reads import SkillIdInput
from better_skills.server.trpc.registry import Context, procedure


@procedure("skills.graphForSkill", "query", SkillIdInput)
async def graph_for_skill(ctx: Context, body: SkillIdInput) -> dict[str, Any]:
    """The connected component around a skill (at most 10 rounds), as GraphOutput; a skill
    the caller cannot read gives an empty graph, not an error (original-system.md §2.1)."""
    user = (await ctx.principal()).user_id
    graph = await ctx.svc.graph.around(user, body.skillId, content=True)
    member = await ctx.vaults()
    return {
        "nodes": [
            {
                "id": n.id,
                "type": n.type,
                "label": n.label,
                "description": n.description,
                "slug": n.slug,
                "parentSkillId": n.parent_skill_id,
                "kind": n.kind,
                "contentSnippet": n.snippet,
                "updatedAt": iso_ms(n.updated_at) if n.updated_at is not None else None,
                "vault": shapes.vault_meta(n.vault, member),
            }
            for n in graph.nodes
        ],
        "edges": [
            {"id": e.id, "source": e.source, "target": e.target, "kind": e.kind}
            for e in graph.edges
        ],
    }
