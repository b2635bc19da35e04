"""CPU per request of the hot reads, in one process, with the hot routes on and off.

    .venv/bin/python benchmarks/hot_reads_bench.py [--backends sqlite,postgres]
        [--skills 50] [--requests 2000] [--rounds 5]

The application is called as an ASGI app (no sockets, no uvicorn, no wrk), on a fresh
database with one person who signed up over the API and created ``--skills`` skills. Each
round times ``--requests`` requests of each scenario with the hot routes on, then the same
with them off (every request then goes through FastAPI's route, as before the hot routes);
the figure is the median over the rounds of the process's CPU time per request. On a
machine other people load, the two halves of a round see the same load, so the ratio holds
even where the absolute figures do not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import asgi_app  # noqa: E402  (benchmarks/asgi_app.py: the app, calls, sign-up)
import run as base  # noqa: E402  (benchmarks/run.py: databases)

from better_skills.server.routers.api_v1.hot_reads import HotRead  # noqa: E402


async def bench(backend: str, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    with (
        tempfile.TemporaryDirectory(prefix="bs-hot-reads-") as tmp,
        base.fresh_database(backend, Path(tmp)) as url,
    ):
        app = asgi_app.create(url, Path(tmp), raised_limits=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=asgi_app.BASE_URL) as c:
                made = await asgi_app.sign_up(c)
                auth = {"Authorization": f"Bearer {made['token']}"}
                for i in range(args.skills):
                    md = f"---\nname: bench {i}\ndescription: Skill {i}.\n---\n# {i}\n"
                    files = [{"path": "SKILL.md", "content": md}]
                    answer = await c.post("/api/v1/skills", json={"files": files}, headers=auth)
                    answer.raise_for_status()
                one = (await c.get("/api/v1/skills?limit=1", headers=auth)).json()["items"][0]
                etag = (await c.get("/api/v1/sync/manifest", headers=auth)).headers["etag"]
            bearer = [(b"authorization", auth["Authorization"].encode())]
            scenarios = [
                ("GET /api/v1/skills?limit=20", "/api/v1/skills", b"limit=20", bearer, 200),
                ("GET /api/v1/skills/{id}", f"/api/v1/skills/{one['id']}", b"", bearer, 200),
                ("sync manifest (200)", "/api/v1/sync/manifest", b"", bearer, 200),
                (
                    "sync manifest (304)",
                    "/api/v1/sync/manifest",
                    b"",
                    [*bearer, (b"if-none-match", etag.encode())],
                    304,
                ),
            ]
            call = asgi_app.call
            routes = [r for r in app.router.routes if isinstance(r, HotRead)]
            results = []
            for label, path, query, headers, expected in scenarios:
                cpu: dict[bool, list[float]] = {True: [], False: []}
                for _ in range(args.rounds):
                    for enabled in (True, False):
                        for r in routes:
                            r.enabled = enabled
                        assert (await call(app, path, query, headers))[0] == expected
                        started = time.process_time()
                        for _ in range(args.requests):
                            await call(app, path, query, headers)
                        spent = time.process_time() - started
                        cpu[enabled].append(spent * 1e6 / args.requests)
                hot, before = statistics.median(cpu[True]), statistics.median(cpu[False])
                results.append((label, before, hot))
                print(f"{backend} {label}: FastAPI {before:,.0f} µs, hot {hot:,.0f} µs", flush=True)
            for r in routes:
                r.enabled = True
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--skills", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rows = []
    for backend in args.backends.split(","):
        rows += [(backend, *r) for r in asyncio.run(bench(backend, args))]
    print("| backend | scenario | FastAPI route, CPU µs/req | hot route, CPU µs/req | ratio |")
    print("|---|---|---:|---:|---:|")
    for backend, label, before, hot in rows:
        print(f"| {backend} | {label} | {before:,.0f} | {hot:,.0f} | ÷ {before / hot:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
