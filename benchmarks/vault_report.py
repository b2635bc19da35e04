"""The vault benchmark's tables: the plain one (every figure, one line per run), and the growth
tables in Markdown, as docs/performance.md shows them: per backend, one row per scenario, one
column per vault size, and whether the issue's floors are met at each size."""

from __future__ import annotations

import re
from typing import Any

_HITS = re.compile(r" \([\d,]+ hits?\)")


def capacity(o: Any) -> float:
    """Requests per second one core of server CPU would serve: the load-independent figure
    on a busy machine (wrk and PostgreSQL run on the other core)."""
    return 1e6 / o.server_cpu_us if o.server_cpu_us > 0 else 0.0


def table(outcomes: list[Any]) -> str:
    lines = [
        f"{'backend':8} {'skills':>7} {'scenario':44} {'rps':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'expected':>8} {'CPU us/req':>11} {'1e6/CPU':>8}  target"
    ]
    for o in outcomes:
        cpu = f"{o.server_cpu_us:.0f}" + (
            f"+{o.database_cpu_us:.0f}" if o.backend == "postgres" else ""
        )
        lines.append(
            f"{o.backend:8} {o.skills:>7,} {o.label[:44]:44} {o.rps:>7,.0f} {o.p50_ms:>7.1f} "
            f"{o.p99_ms:>7.1f} {o.ok_share:>8.1%} {cpu:>11} {capacity(o):>8,.0f}  {o.verdict}"
        )
    return "\n".join(lines)


def cell(o: Any) -> str:
    """requests/s · p50/p99 ms · CPU ms per request (server, + PostgreSQL's backends)."""
    if o.requests == 0:
        return "no answer"
    cpu = f"{o.server_cpu_us / 1000:.1f}"
    if o.backend == "postgres":
        cpu += f"+{o.database_cpu_us / 1000:.1f}"
    unexpected = "" if o.ok_share >= 1 else f" ({o.ok_share:.0%} expected)"
    return f"{o.rps:,.0f} · {o.p50_ms:,.0f}/{o.p99_ms:,.0f} · {cpu}{unexpected}"


def _cpu(info: dict[str, Any]) -> str:
    if info.get("seed_cpu_seconds") is None:
        return ""
    database = info.get("seed_database_cpu_seconds") or 0
    return f", CPU {info['seed_cpu_seconds']} s" + (
        f" + {database} s PostgreSQL" if database else ""
    )


def markdown(outcomes: list[Any], infos: list[dict[str, Any]], note: str) -> str:
    out: list[str] = []
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    for backend in dict.fromkeys(o.backend for o in outcomes):
        mine = [o for o in outcomes if o.backend == backend]
        sizes = list(dict.fromkeys(o.skills for o in mine))
        cpu = "server+PostgreSQL" if backend == "postgres" else "server"
        out += [
            f"{names.get(backend, backend)}: each cell is requests/s · p50/p99 ms · CPU ms per "
            f"request ({cpu})",
            "",
            "| scenario | floor | " + " | ".join(f"{n:,}" for n in sizes) + " | floor met |",
            "|---|---|" + "---:|" * len(sizes) + "---|",
        ]
        for key in dict.fromkeys(o.key for o in mine):
            row = {o.skills: o for o in mine if o.key == key}
            first = next(iter(row.values()))
            met = " / ".join(
                "-" if row[n].met is None else ("yes" if row[n].met else "**no**")
                for n in sizes
                if n in row
            )
            cells = " | ".join(cell(row[n]) if n in row else "" for n in sizes)
            out.append(f"| {_HITS.sub('', first.label)} | {first.floor or '-'} | {cells} | {met} |")
        hits = [
            f"{i['skills']:,}: "
            + ", ".join(f"{q!r} {n:,}" for q, n in i["search_totals"].items())
            + f" (seeded in {i['seed_seconds']} s{_cpu(i)})"
            for i in infos
            if i["backend"] == backend
        ]
        out += ["", "Search hits per size: " + "; ".join(hits) + ".", ""]
    out.append(f"({note})")
    return "\n".join(out)
