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
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as base  # noqa: E402  (benchmarks/run.py: databases)

from better_skills.server.app import create_app  # noqa: E402
from better_skills.server.routers.api_v1.hot_reads import HotRead  # noqa: E402
from better_skills.server.security import HashCost  # noqa: E402
from better_skills.server.settings import load_settings  # noqa: E402


async def call(app: Any, path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET through the whole ASGI stack (middleware, router, handlers): its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def bench(backend: str, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    with (
        tempfile.TemporaryDirectory(prefix="bs-hot-reads-") as tmp,
        base.fresh_database(backend, Path(tmp)) as url,
    ):
        settings = load_settings(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench-secret-key-" + "x" * 32,
                "PUBLIC_URL": "http://testserver",
                "XDG_DATA_HOME": str(Path(tmp) / "data"),
            },
            Path(tmp) / ".env",
        )
        app = create_app(settings, hash_cost=HashCost(time_cost=1, memory_kib=1024, parallelism=1))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                made = await c.post(
                    "/api/auth/sign-up/email",
                    json={"name": "B", "email": "b@example.com", "password": "bench-password-1"},
                    headers={"Origin": "http://testserver"},
                )
                made.raise_for_status()
                auth = {"Authorization": f"Bearer {made.json()['token']}"}
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
            routes = [r for r in app.router.routes if isinstance(r, HotRead)]
            results = []
            for label, path, query, headers, expected in scenarios:
                cpu: dict[bool, list[float]] = {True: [], False: []}
                for _ in range(args.rounds):
                    for enabled in (True, False):
                        for r in routes:
                            r.enabled = enabled
                        assert await call(app, path, query, headers) == expected
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
