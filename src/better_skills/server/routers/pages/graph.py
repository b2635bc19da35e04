"""The web console's graphs: the skills of the viewer's vaults (or one vault) and the
mentions between them, and the neighbourhood of one skill, drawn as SVG on the server."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from better_skills.server.dependencies import services
from better_skills.server.render.graph_svg import DrawNode, draw
from better_skills.server.render.links import SKILL_PAGE, skill_url
from better_skills.server.routers.pages._console import (
    GRAPH_PAGE,
    load_skill,
    session_or_login,
    skill_not_found,
    vault_groups,
)
from better_skills.server.routers.pages._render import render
from better_skills.server.services.graph import Graph

router = APIRouter()


def _drawing(graph: Graph, groups: dict[str, int], current: str | None, label: str) -> Any:
    nodes = [
        DrawNode(
            n.id,
            n.label,
            skill_url(n.id),
            f"{n.label} ({n.vault.name})" + (f": {n.description}" if n.description else ""),
            groups.get(n.vault.id, 0),
            n.id == current,
        )
        for n in graph.skills()
    ]
    return draw(nodes, graph.skill_edges(), label=label)


@router.get(GRAPH_PAGE)
async def vault_graph(request: Request) -> Response:
    view = await session_or_login(request)
    if isinstance(view, Response):
        return view
    svc = services(request)
    vaults = await svc.vaults.list_for(view.user.id)
    vault_ref = request.query_params.get("vault") or ""
    chosen = next((v for v in vaults if vault_ref in (v.id, v.slug)), None)
    graph = await svc.graph.vault_graph(view.user.id, chosen.id if chosen else None)
    drawing = await anyio.to_thread.run_sync(
        _drawing, graph, vault_groups(vaults), None, "Skills and their mentions"
    )
    return render(
        "graph.html",
        user=view.user,
        vaults=vaults,
        groups=vault_groups(vaults),
        chosen=chosen,
        skill=None,
        depth=None,
        drawing=drawing,
        edges=len(graph.skill_edges()),
    )


@router.get(SKILL_PAGE + "/graph")
async def skill_graph(request: Request, skill_id: str) -> Response:
    view = await session_or_login(request)
    if isinstance(view, Response):
        return view
    svc = services(request)
    skill = await load_skill(request, view, skill_id)
    if skill is None:
        return skill_not_found(view)
    depth = 2 if request.query_params.get("depth") == "2" else 1
    vaults = await svc.vaults.list_for(view.user.id)
    graph = await svc.graph.around(view.user.id, skill.summary.id, depth)
    drawing = await anyio.to_thread.run_sync(
        _drawing,
        graph,
        vault_groups(vaults),
        skill.summary.id,
        f"Skills around {skill.summary.name}",
    )
    return render(
        "graph.html",
        user=view.user,
        vaults=vaults,
        groups=vault_groups(vaults),
        chosen=None,
        skill=skill.summary,
        depth=depth,
        drawing=drawing,
        edges=len(graph.skill_edges()),
    )
