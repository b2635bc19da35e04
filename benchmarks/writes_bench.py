"""CPU per request of the skill writes and searches, in one process, through the whole ASGI app.

    .venv/bin/python benchmarks/writes_bench.py [--backends sqlite,postgres]
        [--requests 200] [--rounds 3] [--scenarios create,update,search] [--profile out.prof]

The application is called as an ASGI app (no sockets, no uvicorn, no wrk) on a fresh
database with one person who signed up over the API. ``create`` POSTs the 20-file skill of
``vault_bench.py`` (a new slug per request), ``update`` PUTs a 20-file skill whose reference
files change each time. The figure is the median over ``--rounds`` of the process's CPU time
per request; on PostgreSQL the database's CPU is added (its backends' CPU read from
``/proc``). ``--profile`` writes a cProfile of one round of each scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import asgi_app  # noqa: E402  (benchmarks/asgi_app.py: the app, calls, sign-up)
import run as base  # noqa: E402  (benchmarks/run.py: databases)


def files(count: int, tag: str) -> list[dict[str, str]]:
    """``vault_bench._files``: SKILL.md, ``count - 2`` references of 1.5 KB, a script."""
    found = [
        {
            "path": "SKILL.md",
            "content": f"---\nname: Bench {tag}\ndescription: A benchmark skill {tag}.\n---\n"
            + "Read the references.\n" * 20,
        }
    ]
    for i in range(count - 2):
        found.append(
            {
                "path": f"references/part-{i:02d}.md",
                "content": f"# Part {i} {tag}\n" + "text " * 300,
            }
        )
    found.append({"path": "scripts/run.sh", "content": "#!/bin/sh\necho bench\n"})
    return found


async def bench(backend: str, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    with (
        tempfile.TemporaryDirectory(prefix="bs-writes-") as tmp,
        base.fresh_database(backend, Path(tmp)) as url,
    ):
        app = asgi_app.create(url, Path(tmp))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=asgi_app.BASE_URL) as c:
                token = (await asgi_app.sign_up(c))["token"]
                first = await c.post(
                    "/api/v1/skills",
                    json={"slug": "to-update", "files": files(20, "u")},
                    headers={"Authorization": f"Bearer {token}"},
                )
                first.raise_for_status()
                update_id = first.json()["id"]
            headers = [(b"authorization", f"Bearer {token}".encode())]
            json_headers = [*headers, (b"content-type", b"application/json")]
            counter = iter(range(10**9))

            def create() -> tuple[str, str, bytes, list[tuple[bytes, bytes]], bytes, int]:
                n = next(counter)
                body = json.dumps({"slug": f"b-{n}", "files": files(20, str(n))}).encode()
                return "POST", "/api/v1/skills", b"", json_headers, body, 201

            def update() -> tuple[str, str, bytes, list[tuple[bytes, bytes]], bytes, int]:
                body = json.dumps({"files": files(20, str(next(counter)))}).encode()
                return "PUT", f"/api/v1/skills/{update_id}", b"", json_headers, body, 200

            def search(q: str) -> Any:
                def make() -> tuple[str, str, bytes, list[tuple[bytes, bytes]], bytes, int]:
                    query = f"q={q}&limit=20".encode()
                    return "GET", "/api/v1/skills/search", query, headers, b"", 200

                return make

            call = asgi_app.call
            makers = {"create": create, "update": update, "search-common": search("bench")}
            results = []
            for key in args.scenarios.split(","):
                make = makers[key]
                cpu: list[float] = []
                db_cpu: list[float] = []
                for r in range(args.rounds):
                    requests = [make() for _ in range(args.requests)]
                    method, path, query, hdrs, body, expected = requests[0]
                    first = await call(app, path, query, hdrs, method=method, body=body)
                    assert first[0] == expected, (key, first)
                    profiler = cProfile.Profile() if args.profile and r == 0 else None
                    pids = base.postgres_backends(url) if backend == "postgres" else []
                    pg_before = base.cpu_seconds(pids) if pids else None
                    started = time.process_time()
                    if profiler:
                        profiler.enable()
                    for method, path, query, hdrs, body, expected in requests[1:]:
                        status, _ = await call(app, path, query, hdrs, method=method, body=body)
                        assert status == expected, (key, status)
                    if profiler:
                        profiler.disable()
                        profiler.dump_stats(f"{args.profile}.{backend}.{key}")
                    spent = time.process_time() - started
                    n = len(requests) - 1
                    cpu.append(spent * 1e6 / n)
                    if pg_before is not None:
                        pg_after = base.cpu_seconds(base.postgres_backends(url))
                        db_cpu.append(base.cpu_spent(pg_before, pg_after) * 1e6 / n)
                own = statistics.median(cpu)
                db = statistics.median(db_cpu) if db_cpu else 0.0
                results.append((key, own, db))
                print(f"{backend} {key}: {own:,.0f} µs + PostgreSQL {db:,.0f} µs", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--scenarios", default="create,update")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default="")
    args = parser.parse_args(argv)
    rows = []
    for backend in args.backends.split(","):
        rows += [(backend, *r) for r in asyncio.run(bench(backend, args))]
    print("| backend | scenario | server CPU µs/req | PostgreSQL CPU µs/req |")
    print("|---|---|---:|---:|")
    for backend, key, own, db in rows:
        print(f"| {backend} | {key} | {own:,.0f} | {db:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
