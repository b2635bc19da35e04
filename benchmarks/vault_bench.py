"""Vault benchmark: item 7's scenarios of issue 18 on a bulk-loaded vault, at several sizes.

    .venv/bin/python benchmarks/vault_bench.py [--skills 1000,10000,100000]
        [--backends sqlite,postgres] [--duration 5] [--warmup 1] [--reuse --data DIR]
        [--markdown out.md] [--json out.json] [--profile DIR]

Per backend and size: a vault of that many skills (``vault_data.py``: ten people and the team
vault made over HTTP, the skills bulk-loaded by ``vault_seed.py``), fresh per run, or with
``--reuse`` seeded once into ``--data`` and measured on a copy; ``better-skills-server``
started as production runs it with **one worker** (``WORKERS=1``); then wrk (2 threads, 32
connections, ``wrk/vault.lua``, every answer checked) loads each scenario for ``--duration``
seconds after a warm-up. Prints a plain table and the Markdown growth tables
(``vault_report.py``).

Who asks: "big" is the second person (their personal vault holds a ninth of the skills beyond
the first 1,000, plus the team vault's 500); "small" is the first, who syncs exactly 1,000
skills (plus the shipped default skill); "writer" is the third, in their own vault.

(A little over 400 lines: the scenarios, the wrk run of one and its checks, and the run of
one size share their facts; the tables are in ``vault_report.py``, the data in
``vault_data.py``.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as base  # noqa: E402  (benchmarks/run.py: server process, databases, wrk)
import vault_data  # noqa: E402
import vault_report  # noqa: E402
import vault_seed  # noqa: E402

VAULT_LUA = HERE / "wrk" / "vault.lua"
SEARCH_P99_MS = 50.0


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    method: str
    path: str
    who: str  # "big" or "small"
    status: int = 200
    marker: str = '"items"'
    header: tuple[str, str] | None = None
    body: str | None = None  # JSON text
    floor_rps: dict[str, int] | None = None  # by backend
    p99_ms: float | None = None
    connections: int | None = None  # instead of --connections


@dataclass
class Outcome:
    backend: str
    skills: int
    key: str
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    ok_share: float
    socket_errors: int
    server_cpu_us: float
    database_cpu_us: float
    verdict: str
    floor: str = ""  # the floors the issue sets, e.g. "≥ 1,500/s"
    met: bool | None = None  # None: no floor
    first_unexpected: str = ""


def scenarios(backend: str, facts: dict[str, Any], folder: Path) -> list[Scenario]:
    list_floor = {"sqlite": 1500, "postgres": 1000}
    bundle_file = folder / "bundle.json"
    bundle_file.write_text(json.dumps({"ids": facts["small_ids"][:100]}))
    found: list[Scenario] = [
        Scenario("list", "GET /api/v1/skills (20 items)", "GET", "/api/v1/skills?limit=20",
                 "big", floor_rps=list_floor),
        Scenario("get", "GET /api/v1/skills/{id}", "GET", f"/api/v1/skills/{facts['get_id']}",
                 "big", marker='"files"', floor_rps=list_floor),
    ]  # fmt: skip
    for key, query in (
        ("search-common", vault_seed.COMMON),
        ("search-rare", vault_seed.RARE),
        ("search-two", vault_seed.TWO_LETTERS),
    ):
        total = facts["search_totals"][query]
        found.append(
            Scenario(
                key,
                f"search {query!r} ({total:,} hits)",
                "GET",
                f"/api/v1/skills/search?q={quote(query)}&limit=20",
                "big",
                p99_ms=SEARCH_P99_MS,
            )
        )
    found += [
        Scenario("manifest", "sync manifest, 1,000 skills (200)", "GET", "/api/v1/sync/manifest",
                 "small", floor_rps={"sqlite": 200, "postgres": 200}),
        Scenario("manifest-304", "sync manifest, 1,000 skills (304)", "GET",
                 "/api/v1/sync/manifest", "small", status=304, marker="-",
                 header=("If-None-Match", facts["manifest_etag"]),
                 floor_rps={"sqlite": 2000, "postgres": 2000}),
        Scenario("bundle", "POST /api/v1/sync/bundle (100 skills)", "POST",
                 "/api/v1/sync/bundle", "small", body=str(bundle_file)),
    ]  # fmt: skip
    create_file = folder / "create.json"
    create_file.write_text(json.dumps({"vault": "personal", "slug": "b-@N@", "files": _files(20)}))
    update_file = folder / "update.json"
    update_file.write_text(json.dumps({"files": _files(20)}))
    trpc = "/trpc/{}?batch=1&input={}"
    found += [
        Scenario("create", "POST /api/v1/skills (20 files)", "POST", "/api/v1/skills", "writer",
                 status=201, marker='"files"', body=str(create_file),
                 floor_rps={"sqlite": 150, "postgres": 150}),
        # One client: concurrent PUTs of one skill refuse each other (412) by design.
        Scenario("update", "PUT /api/v1/skills/{id} (20 files, 1 conn.)", "PUT",
                 f"/api/v1/skills/{facts['update_id']}", "writer", marker='"files"',
                 body=str(update_file), connections=1),
        Scenario("trpc-list", "/trpc skills.listByOwner (20)", "GET",
                 trpc.format("skills.listByOwner", quote(json.dumps({"0": {"limit": 20}}))),
                 "big", marker='"nextCursor"'),
        Scenario("trpc-search", f"/trpc skills.search {vault_seed.COMMON!r}", "GET",
                 trpc.format("skills.search", quote(json.dumps(
                     {"0": {"query": vault_seed.COMMON, "limit": 5}}))),
                 "big", marker='"total"', p99_ms=SEARCH_P99_MS),
        Scenario("trpc-sync", "/trpc skills.syncPage (100)", "GET",
                 trpc.format("skills.syncPage", quote(json.dumps({"0": {"limit": 100}}))),
                 "small", marker='"nextCursor"'),
    ]  # fmt: skip
    return found


def _files(count: int) -> list[dict[str, str]]:
    """A skill of ``count`` files (SKILL.md, references, a script); the description and a
    reference carry ``@N@``, which wrk makes unique per request."""
    files = [
        {
            "path": "SKILL.md",
            "content": "---\nname: Bench @N@\ndescription: A benchmark skill @N@.\n---\n"
            + "Read the references.\n" * 20,
        }
    ]
    for i in range(count - 2):
        files.append(
            {"path": f"references/part-{i:02d}.md", "content": f"# Part {i} @N@\n" + "text " * 300}
        )
    files.append({"path": "scripts/run.sh", "content": "#!/bin/sh\necho bench\n"})
    return files


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R"
    except OSError:
        return False


def settle(server: base.Server, limit: float = 120) -> bool:
    """Wait until the server has answered what wrk left queued when it stopped (slow
    endpoints can have seconds of work queued), so the next run starts on an idle server.

    Idle is no server process (nor PostgreSQL backend of its database) running or runnable
    for half a second: the process state, not the CPU it got, which on a loaded machine is
    small even while it works. False if it was still busy after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    database = server.env["DATABASE_URL"]
    quiet = 0
    while time.monotonic() < deadline:
        time.sleep(0.1)
        pids = server.pids()
        if database.startswith("postgres"):
            pids += base.postgres_backends(database)
        quiet = 0 if any(_running(p) for p in pids) else quiet + 1
        if quiet >= 5:
            return True
    return False


def drain(server: base.Server, settled: bool) -> None:
    """Restart a server that did not settle: a backlog of minutes (a common word searched at
    100,000 skills on a busy machine) would otherwise land in every later scenario."""
    if not settled:
        base.log("the server is still busy two minutes after the run: restarting it")
        server.stop()
        server.start(timeout=600)


def prepare(server: base.Server, tokens: dict[str, str]) -> dict[str, Any]:
    """What the scenarios need, read over HTTP: ids, the manifest's ETag, search totals."""
    with httpx.Client(base_url=server.url, timeout=120) as client:

        def get(path: str, who: str, **params: Any) -> httpx.Response:
            answer = client.get(
                path, params=params, headers={"Authorization": f"Bearer {tokens[who]}"}
            )
            answer.raise_for_status()
            return answer

        manifest = get("/api/v1/sync/manifest", "small")
        small_ids = [item["id"] for item in manifest.json()["items"]]
        listed = get("/api/v1/skills", "big", limit=20).json()["items"]
        totals = {
            q: get("/api/v1/skills/search", "big", q=q, limit=20).json()["total"]
            for q in (vault_seed.COMMON, vault_seed.RARE, vault_seed.TWO_LETTERS)
        }
        made = client.post(
            "/api/v1/skills",
            json={"vault": "personal", "slug": "bench-update", "files": _files(20)},
            headers={"Authorization": f"Bearer {tokens['writer']}"},
        )
        made.raise_for_status()
        return {
            "update_id": made.json()["id"],
            "small_ids": small_ids,
            "manifest_etag": manifest.headers["ETag"],
            "manifest_items": len(small_ids),
            "get_id": listed[len(listed) // 2]["id"],
            "search_totals": totals,
        }


def run_scenario(
    server: base.Server,
    backend: str,
    skills: int,
    scenario: Scenario,
    token: str,
    args: argparse.Namespace,
) -> Outcome:
    header = scenario.header or ("-", "-")
    wrk_args = [scenario.method, token, str(scenario.status), scenario.marker, *header]
    if scenario.body:
        wrk_args.append(scenario.body)

    def load(duration: float) -> dict[str, Any]:
        connections = scenario.connections or args.connections
        command = [
            "wrk", f"-t{min(args.threads, connections)}", f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout", "10s", "-s", str(VAULT_LUA), server.url + scenario.path, "--", *wrk_args,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_JSON "):
                return dict(json.loads(line.removeprefix("BENCH_JSON ")))
        drain(server, settle(server))
        raise RuntimeError(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")

    if args.warmup > 0:
        load(args.warmup)
        drain(server, settle(server))
    profiler = None
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        out = args.profile / f"{backend}-{skills}-{scenario.key}.txt"
        profiler = subprocess.Popen(
            [spy, "record", "--pid", str(server.process.pid if server.process else 0),
             "--subprocesses", "--rate", "250", "--duration", str(max(1, round(args.duration))),
             "--format", "raw", "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def database_pids() -> list[int]:
        return base.postgres_backends(server.env["DATABASE_URL"]) if backend == "postgres" else []

    before = base.cpu_seconds(server.pids()), base.cpu_seconds(database_pids())
    raw = load(args.duration)
    # Counted when wrk stops: the up to 32 requests still queued then are not among wrk's
    # completed requests, so their CPU would inflate the cost of a slow endpoint severalfold.
    after = base.cpu_seconds(server.pids()), base.cpu_seconds(database_pids())
    drain(server, settle(server))
    if profiler is not None:
        profiler.wait(60)
    requests = max(1, raw["requests"])
    seconds = raw["duration_us"] / 1e6
    answered = raw["ok"] + raw["unexpected"]
    rps = raw["requests"] / seconds if seconds else 0.0
    p99 = raw["p99_us"] / 1000
    checks = []
    floors = []
    if scenario.floor_rps:
        floors.append(f"≥ {scenario.floor_rps[backend]:,}/s")
    if scenario.p99_ms:
        floors.append(f"p99 < {scenario.p99_ms:.0f} ms")
    if raw["requests"] == 0:
        checks.append("NO ANSWER within the run (the server was still busy with the last)")
    elif scenario.floor_rps:
        floor = scenario.floor_rps[backend]
        checks.append(f">= {floor} rps " + ("ok" if rps >= floor else "MISSED"))
    if scenario.p99_ms and raw["requests"]:
        checks.append(
            f"p99 < {scenario.p99_ms:.0f} ms " + ("ok" if p99 < scenario.p99_ms else "MISSED")
        )
    outcome = Outcome(
        backend=backend,
        skills=skills,
        key=scenario.key,
        label=scenario.label,
        rps=rps,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=p99,
        requests=raw["requests"],
        ok_share=raw["ok"] / answered if answered else 0.0,
        socket_errors=raw["socket_errors"] + raw["timeouts"],
        server_cpu_us=base.cpu_spent(before[0], after[0]) * 1e6 / requests,
        database_cpu_us=base.cpu_spent(before[1], after[1]) * 1e6 / requests,
        verdict="; ".join(checks),
        floor=", ".join(floors),
        met=None
        if not floors
        else bool(checks) and "MISSED" not in "".join(checks) and raw["requests"] > 0,
        first_unexpected=raw.get("first_unexpected", ""),
    )
    base.log(
        f"{backend} {skills:,} {scenario.label}: {rps:,.0f} rps, p50 {outcome.p50_ms:.1f} ms, "
        f"p99 {p99:.1f} ms, {outcome.ok_share:.1%} expected"
        + (f" (first other: {outcome.first_unexpected[:150]})" if outcome.ok_share < 1 else "")
    )
    return outcome


def bench(backend: str, skills: int, args: argparse.Namespace) -> tuple[list[Outcome], dict]:
    with tempfile.TemporaryDirectory(prefix=f"bs-vault-bench-{backend}-") as tmp:
        folder = Path(tmp)
        if args.reuse:
            kept = vault_data.Kept(backend, skills, args.data.resolve(), args.database)
            record = vault_data.ensure(kept, src=args.src)
            vault_data.migrate_if_behind(kept, folder, args.src)
            database: Any = vault_data.working_copy(kept, folder)
        else:
            database = base.fresh_database(backend, folder)
        with database as database_url:
            if not args.reuse:
                (folder / "build").mkdir()
                base.log(f"{backend}: building {skills:,} skills")
                record = vault_data.build(database_url, skills, folder / "build", src=args.src)
                base.log(f"{backend}: seeded in {record['seed_seconds']} s")
            server = base.Server(database_url, folder, workers=1, src=args.src)
            try:
                server.start(timeout=600)
                who = ("small", "big", "writer")
                tokens = {w: vault_data.sign_in(server, i) for i, w in enumerate(who)}
                facts = prepare(server, tokens)
                outcomes = [
                    run_scenario(server, backend, skills, s, tokens[s.who], args)
                    for s in scenarios(backend, facts, folder)
                    if not args.scenarios or s.key in args.scenarios
                ]
            finally:
                server.stop()
    info = {
        "backend": backend,
        "skills": skills,
        "seed_seconds": record["seed_seconds"],
        "seed_cpu_seconds": record.get("seed_cpu_seconds"),
        "seed_database_cpu_seconds": record.get("seed_database_cpu_seconds"),
        "seed_load_average": record.get("load_average"),
        "manifest_items": facts["manifest_items"],
        "search_totals": facts["search_totals"],
    }
    return outcomes, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", default="1000,10000,100000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scenarios", type=lambda s: set(s.split(",")), default=None)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="seed each size once into --data (PostgreSQL: bench_<size>) and measure a copy "
        "of it; without it, a fresh database per run",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("bench-data"),
        help="kept SQLite databases and the seed records (with --reuse)",
    )
    parser.add_argument(
        "--database",
        help="PostgreSQL, with --reuse and one size: this kept database, not bench_<size>",
    )
    parser.add_argument("--profile", type=Path, help="py-spy raw profiles per scenario here")
    parser.add_argument("--src", type=Path, help="benchmark another checkout's server")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--markdown", type=Path, help="also write the growth tables here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("vault_bench.py needs wrk (apt-get install -y wrk)", file=sys.stderr)
        return 2
    sizes = [int(n) for n in args.skills.split(",")]
    if args.database and (len(sizes) > 1 or not args.reuse):
        parser.error("--database takes --reuse and one --skills size")
    outcomes: list[Outcome] = []
    infos = []
    started = time.monotonic()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    for backend in args.backends.split(","):
        for skills in sizes:
            found, info = bench(backend, skills, args)
            outcomes += found
            infos.append(info)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(vault_report.table(outcomes))
    for info in infos:
        print(
            f"{info['backend']} {info['skills']:,} skills: seeded in {info['seed_seconds']} s; "
            f"small user's manifest {info['manifest_items']:,} items; search totals "
            + ", ".join(f"{q!r} {n:,}" for q, n in info["search_totals"].items())
        )
    took = time.monotonic() - started
    note = (
        f"wrk {args.threads} threads, {args.connections} connections, {args.duration:g} s per "
        f"scenario after {args.warmup:g} s warm-up; one worker; {took:.0f} s in all; load "
        f"average {' '.join(load_before)} before, {' '.join(load_after)} after"
    )
    print(f"({note})")
    tables = vault_report.markdown(outcomes, infos, note)
    print()
    print(tables)
    if args.markdown:
        args.markdown.write_text(tables + "\n")
    if args.json:
        with contextlib.suppress(OSError):
            args.json.write_text(
                json.dumps(
                    {"results": [asdict(o) for o in outcomes], "runs": infos, "note": note},
                    indent=1,
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
