"""In-process measurements on a kept, seeded database: CPU per request of any GET.

    # once: vault_data.py's kept vault of N skills in DIR (built if missing: SQLite
    # DIR/vault-<size>.db, PostgreSQL bench_<size>), its people's tokens in DIR/facts.json
    .venv/bin/python benchmarks/inproc.py seed --backend sqlite --skills 100000 --dir /tmp/x
    # then, as often as needed (before and after a change, back to back):
    .venv/bin/python benchmarks/inproc.py run --dir /tmp/x --requests 200 --rounds 5

The application is called as an ASGI app (no sockets, no uvicorn, no wrk): what is measured
is the process's CPU time per request (``time.process_time``), which a loaded machine
inflates far less than wall time, and, on PostgreSQL, the CPU time of the database's
backends serving it (from ``/proc``). ``run`` prints one row per scenario: CPU µs per
request (median of the rounds), wall p50/p99 of single requests, and the answer's size.
``--src`` runs another checkout's ``src`` (``git archive REV src | tar -x -C DIR``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _app(url: str, folder: Path) -> Any:
    import asgi_app

    return asgi_app.create(url, folder)


async def _sign_in(url: str, folder: Path) -> list[tuple[str, str]]:
    """Each of ``vault_data``'s ten people signed in over the API: [(user id, token)]."""
    import asgi_app
    import httpx
    import vault_data

    app = _app(url, folder)
    people = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=asgi_app.BASE_URL) as c:
            for i in range(vault_data.USERS):
                answer = await c.post(
                    "/api/auth/sign-in/email",
                    json={"email": vault_data.email(i), "password": vault_data.password(i)},
                    headers={"Origin": asgi_app.BASE_URL},
                )
                answer.raise_for_status()
                made = answer.json()
                people.append((made["user"]["id"], made["token"]))
    return people


def _seed_all(args: argparse.Namespace) -> None:
    """The kept vault of ``vault_data.py`` (built once, or reused), and its people's tokens."""
    import vault_data

    folder = Path(args.dir)
    kept = vault_data.Kept(args.backend, args.skills, folder)
    record = vault_data.ensure(kept)
    vault_data.migrate_if_behind(kept, folder)
    people = asyncio.run(_sign_in(kept.url, folder))
    facts = {"backend": args.backend, "url": kept.url, "skills": args.skills, "people": people}
    (folder / "facts.json").write_text(json.dumps(facts))
    print(f"{args.skills} skills (built {record['built_at']}): {kept.url}")


SCENARIOS = {
    "list": ("/api/v1/skills", "limit=20", "big"),
    "search-common": ("/api/v1/skills/search", "q=deploy&limit=20", "big"),
    "search-rare": ("/api/v1/skills/search", "q=zanzibar&limit=20", "big"),
    "search-two": ("/api/v1/skills/search", "q=wi&limit=20", "big"),
    "search-typo": ("/api/v1/skills/search", "q=kubernets&limit=20", "big"),
    "manifest": ("/api/v1/sync/manifest", "", "small"),
    "trpc-search": (
        "/trpc/skills.search",
        "batch=1&input=" + quote(json.dumps({"0": {"query": "deploy", "limit": 5}})),
        "big",
    ),
}


def _backend_pids(facts: dict[str, Any]) -> list[int]:
    if facts["backend"] != "postgres":
        return []
    import run as base

    return base.postgres_backends(facts["url"])


async def _run(args: argparse.Namespace) -> None:
    import run as base
    from asgi_app import call

    folder = Path(args.dir)
    facts = json.loads((folder / "facts.json").read_text())
    app = _app(facts["url"], folder)
    # "small" syncs 1,000 skills (vault_seed.MANIFEST_SKILLS); "big" is the second person,
    # who reads the team vault and their own share of the rest.
    tokens = {"small": facts["people"][0][1], "big": facts["people"][1][1]}
    async with app.router.lifespan_context(app):
        scenarios = dict(SCENARIOS)
        headers = {k: [(b"authorization", f"Bearer {t}".encode())] for k, t in tokens.items()}
        first = await call(app, "/api/v1/skills", b"limit=1", headers["big"])
        assert first[0] == 200, first
        rows = []
        for key in args.scenarios.split(","):
            path, query, who = scenarios[key]
            status, size = await call(app, path, query.encode(), headers[who])
            assert status == 200, (key, status)
            cpu, db_cpu, walls = [], [], []
            for _ in range(args.rounds):
                pids = _backend_pids(facts)
                db_before = base.cpu_seconds(pids)
                started = time.process_time()
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    await call(app, path, query.encode(), headers[who])
                    walls.append(time.perf_counter() - t0)
                cpu.append((time.process_time() - started) * 1e6 / args.requests)
                db_after = base.cpu_seconds(_backend_pids(facts))
                db_cpu.append(base.cpu_spent(db_before, db_after) * 1e6 / args.requests)
            walls.sort()
            p50 = walls[len(walls) // 2] * 1e3
            p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))] * 1e3
            row = (key, statistics.median(cpu), statistics.median(db_cpu), p50, p99, size)
            rows.append(row)
            print(
                f"{facts['backend']} {key}: {row[1]:,.0f} µs + db {row[2]:,.0f} µs; "
                f"wall p50 {p50:.1f} p99 {p99:.1f} ms; {size:,} bytes",
                flush=True,
            )
    print(f"load average: {os.getloadavg()}")
    print("| scenario | CPU µs/req | database CPU µs/req | wall p50 ms | wall p99 ms | bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, own, db, p50, p99, size in rows:
        print(f"| {key} | {own:,.0f} | {db:,.0f} | {p50:.1f} | {p99:.1f} | {size:,} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--backend", default="sqlite")
    s.add_argument("--skills", type=int, default=100_000)
    s.add_argument("--dir", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--scenarios", default="list,search-common,search-rare,search-two")
    r.add_argument("--requests", type=int, default=100)
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--src", default="", help="another checkout's src folder to run")
    args = parser.parse_args(argv)
    if getattr(args, "src", ""):
        sys.path.insert(0, args.src)
    if args.command == "seed":
        _seed_all(args)
    else:
        asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
