"""The graph of skills and their mentions (original-system.md §2.1 ``graph``/``graphForSkill``,
§4.7): nodes are skills and their files, edges are mention links plus one ``parent`` edge from
each skill to each of its files. Only skills of the caller's vaults are ever nodes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from better_skills.server.db import Database
from better_skills.server.direct import Tx
from better_skills.server.queries import graph as q
from better_skills.server.queries import skills as skill_queries
from better_skills.server.queries import vaults as vault_queries
from better_skills.server.services.skills import SKILL_MD, SkillSummary, summary_from_row
from better_skills.server.services.vaults import VaultRef, find_member_vault
from better_skills.skillfmt import mentions

#: graphForSkill's limit: the original loads at most 10 rounds of skills, the first being the
#: skill itself, so the farthest skills are 9 steps away.
MAX_ROUNDS = 10
MAX_DEPTH = MAX_ROUNDS - 1
SNIPPET_CHARS = 200


@dataclass(frozen=True)
class GraphNode:
    id: str
    type: str  # "skill" or "resource"
    label: str
    description: str | None
    slug: str | None
    parent_skill_id: str | None
    kind: str | None
    snippet: str | None
    updated_at: int | None
    vault: VaultRef


@dataclass(frozen=True)
class GraphEdge:
    id: str
    source: str
    target: str
    kind: str  # "mention" or "parent"


@dataclass(frozen=True)
class Graph:
    nodes: list[GraphNode]
    edges: list[GraphEdge]

    def skills(self) -> list[GraphNode]:
        return [n for n in self.nodes if n.type == "skill"]

    def skill_edges(self) -> list[tuple[str, str]]:
        """Distinct (mentioning skill, mentioned skill) pairs, a skill's own files folded
        into it and self-mentions left out: what the drawing shows."""
        owner = {n.id: n.parent_skill_id or n.id for n in self.nodes}
        pairs: dict[tuple[str, str], None] = {}
        for e in self.edges:
            if e.kind == "parent":
                continue
            pair = (owner[e.source], owner[e.target])
            if pair[0] != pair[1]:
                pairs[pair] = None
        return list(pairs)


def _snippet(data: bytes | None) -> str | None:
    if data is None or not mentions.is_text(data):
        return None
    return data.decode("utf-8")[:SNIPPET_CHARS]


class GraphService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def vault_graph(self, user_id: str, vault: str | None = None) -> Graph:
        """Every skill of the caller's vaults (or of one of them) and the links between them."""
        async with self._db.read() as tx:
            if vault:
                scope = [(await find_member_vault(tx, user_id, vault)).id]
            else:
                scope = await vault_queries.vault_ids(tx, user_id)
            rows = await q.skills_in(tx, scope)
            return await self._build(tx, rows, content=False)

    async def around(
        self, user_id: str, skill_id: str, depth: int = MAX_DEPTH, *, content: bool = False
    ) -> Graph:
        """The skills reachable from ``skill_id`` through mentions in either direction within
        ``depth`` steps, inside the caller's vaults. Empty when the skill is not readable."""
        try:
            skill_id = str(uuid.UUID(skill_id))
        except ValueError:
            return Graph([], [])
        depth = max(1, min(MAX_DEPTH, depth))
        async with self._db.read() as tx:
            scope = await vault_queries.vault_ids(tx, user_id)
            loaded: dict[str, Any] = {}
            frontier = {skill_id}
            # The first round loads the skill itself; each further one the next step out.
            for _ in range(depth + 1):
                rows = await q.skills_in(tx, scope, ids=frontier)
                if not rows:
                    break
                loaded.update((r.id, r) for r in rows)
                links = await q.links_touching(tx, [r.id for r in rows])
                ends = {k.source_skill_id for k in links} | {k.target_skill_id for k in links}
                frontier = ends - set(loaded)
                if not frontier:
                    break
            ordered = sorted(loaded.values(), key=lambda r: (r.name, r.id))
            return await self._build(tx, ordered, content=content)

    async def _build(self, tx: Tx, rows: Sequence[Any], *, content: bool) -> Graph:
        summaries = [summary_from_row(r) for r in rows]
        ids = [s.id for s in summaries]
        files = await skill_queries.files(tx, ids, content=content) if ids else []
        links = await q.links_touching(tx, ids)
        return _assemble(summaries, files, links, content)


def _assemble(
    summaries: list[SkillSummary], files: Iterable[Any], links: Iterable[Any], content: bool
) -> Graph:
    by_id = {s.id: s for s in summaries}
    skill_md: dict[str, Any] = {}
    resources: list[Any] = []
    for f in files:
        if f.path == SKILL_MD:
            skill_md[f.skill_id] = f
        else:
            resources.append(f)
    nodes: list[GraphNode] = []
    for s in summaries:
        md = skill_md.get(s.id)
        nodes.append(
            GraphNode(
                s.id,
                "skill",
                s.name,
                s.description,
                s.slug,
                None,
                None,
                _snippet(bytes(md.content)) if content and md is not None else None,
                s.updated_at,
                s.vault,
            )
        )
    edges: list[GraphEdge] = []
    for f in resources:
        owner = by_id[f.skill_id]
        nodes.append(
            GraphNode(
                f.id,
                "resource",
                f.path,
                None,
                None,
                f.skill_id,
                f.kind,
                _snippet(bytes(f.content)) if content else None,
                None,
                owner.vault,
            )
        )
        edges.append(GraphEdge(f"parent-{f.id}", f.skill_id, f.id, "parent"))
    # A file of SKILL.md stands for its skill; any other file is its own node.
    node_of = {f.id: f.skill_id for f in skill_md.values()}
    node_of.update({f.id: f.id for f in resources})
    node_of.update({s.id: s.id for s in summaries})
    for link in links:
        source = node_of.get(link.source_file_id)
        target = node_of.get(link.target_file_id or link.target_skill_id)
        if source is not None and target is not None:
            edges.append(GraphEdge(str(link.id), source, target, link.kind))
    return Graph(nodes, edges)
