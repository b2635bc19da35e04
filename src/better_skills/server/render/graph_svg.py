"""A graph of skills drawn on the server as inline SVG: networkx computes a force-directed
layout with a fixed seed (the same graph is drawn the same way every time), nodes are links to
the skill pages, every label is escaped. Colours come from the stylesheet (classes only)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import networkx as nx

SEED = 7
#: More skills than this are not drawn: the most connected ones are, and the page says so.
MAX_NODES = 150
LABEL_CHARS = 22
NODE_RADIUS = 9
MARGIN = 90


@dataclass(frozen=True)
class DrawNode:
    id: str
    label: str
    href: str
    title: str = ""
    group: int = 0  # a colour class: the vault's position among the viewer's vaults
    current: bool = False


@dataclass(frozen=True)
class Drawing:
    svg: str
    drawn: int
    total: int


def _short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def choose(nodes: Sequence[DrawNode], edges: Sequence[tuple[str, str]]) -> list[DrawNode]:
    """At most MAX_NODES nodes: the current one, then the most connected (ties by label)."""
    if len(nodes) <= MAX_NODES:
        return list(nodes)
    degree: dict[str, int] = {}
    for a, b in edges:
        degree[a] = degree.get(a, 0) + 1
        degree[b] = degree.get(b, 0) + 1
    ranked = sorted(nodes, key=lambda n: (not n.current, -degree.get(n.id, 0), n.label, n.id))
    return ranked[:MAX_NODES]


def layout(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """Positions in [0, 1] x [0, 1] from networkx's spring layout (seeded)."""
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    graph.add_edges_from(edges)
    if len(ids) == 1:
        return {ids[0]: (0.5, 0.5)}
    k = 1.6 / math.sqrt(len(ids))  # more room between nodes than the default 1/sqrt(n)
    pos = nx.spring_layout(graph, seed=SEED, k=k, iterations=80)
    xs = [float(p[0]) for p in pos.values()]
    ys = [float(p[1]) for p in pos.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    return {
        n: ((float(p[0]) - min(xs)) / span_x, (float(p[1]) - min(ys)) / span_y)
        for n, p in pos.items()
    }


def draw(nodes: Sequence[DrawNode], edges: Sequence[tuple[str, str]], *, label: str) -> Drawing:
    """The SVG of ``nodes`` and the directed ``edges`` (mentioning -> mentioned) among them."""
    shown = choose(nodes, edges)
    ids = [n.id for n in shown]
    present = set(ids)
    kept = [(a, b) for a, b in edges if a in present and b in present and a != b]
    if not shown:
        return Drawing("", 0, 0)
    size = max(420, min(1400, int(160 * math.sqrt(len(shown)))))
    width, height = size + 2 * MARGIN, int(size * 0.75) + 2 * MARGIN
    pos = {
        n: (MARGIN + x * size, MARGIN + y * size * 0.75) for n, (x, y) in layout(ids, kept).items()
    }
    parts = [
        f'<svg class="graph" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path class="graph-arrow" '
        'd="M 0 0 L 10 5 L 0 10 z"/></marker></defs>',
    ]
    for a, b in kept:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        # Stop the line at the target circle's edge, so the arrow head shows.
        cut = (NODE_RADIUS + 3) / length
        parts.append(
            f'<line class="graph-edge" x1="{x1:.1f}" y1="{y1:.1f}" '
            f'x2="{x2 - (x2 - x1) * cut:.1f}" y2="{y2 - (y2 - y1) * cut:.1f}" '
            'marker-end="url(#arrow)"/>'
        )
    for n in shown:
        x, y = pos[n.id]
        classes = f"graph-node group-{n.group % 8}" + (" graph-current" if n.current else "")
        title = escape(n.title or n.label)
        parts.append(
            f'<a href="{escape(n.href)}" class="{classes}"><title>{title}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_RADIUS + (3 if n.current else 0)}"/>'
            f'<text x="{x:.1f}" y="{y + NODE_RADIUS + 15:.1f}" text-anchor="middle">'
            f"{escape(_short(n.label))}</text></a>"
        )
    parts.append("</svg>")
    return Drawing("".join(parts), len(shown), len(nodes))
