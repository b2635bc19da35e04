"""Wall time of the online skill commands: ``list``, ``search`` and ``get`` (issue 12's
target: under 200 ms each against a local server; issue 18 item 8: against a server holding
1,000 skills), and ``create`` of a 1 MiB folder (under 500 ms).

Starts a local server with a fresh SQLite database (``cli_startup.local_server``), signs in
through the real device flow, seeds ``--skills`` skills (1,000 by default), then runs each
command ``--runs`` times after warm-up runs and prints median, fastest and 90th percentile of
the wall time, and the median CPU time (user + sys) of the CLI process. ``list`` shows the
first page (20 skills), ``list --all`` follows every page.

    .venv/bin/python benchmarks/cli_skills.py             # 20 runs of each, 1,000 skills
    .venv/bin/python benchmarks/cli_skills.py --runs 50 --skills 30 --json

A benchmark, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_startup import (  # a sibling script, not a package
    executable,
    local_server,
    obtain_token,
    summarise,
    time_runs,
    write_session,
)

TARGETS_MS = {
    "list": 200.0,
    "list --all": 0.0,
    "search": 200.0,
    "get": 200.0,
    "create 1 MiB": 500.0,
}


def seed(url: str, token: str, count: int = 1000) -> None:
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as api:

        def create(index: int) -> None:
            name = f"bench-skill-{index}"
            text = f"---\nname: {name}\ndescription: Benchmark skill {index}.\n---\n# {name}\n"
            files = [{"path": "SKILL.md", "content": text}]
            api.post("/api/v1/skills", json={"files": files}).raise_for_status()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, range(count)))


def big_folder(root: Path, index: int) -> Path:
    """A valid skill of about 1 MiB: SKILL.md and 16 mentioned reference files of 64 KiB."""
    folder = root / f"big-{index}"
    (folder / "references").mkdir(parents=True)
    mentions = " ".join(f"[[resource:new:references/r{i}.md]]" for i in range(16))
    (folder / "SKILL.md").write_text(
        f"---\nname: big-{index}\ndescription: A 1 MiB skill.\n---\n# Big\n{mentions}\n"
    )
    for i in range(16):
        (folder / "references" / f"r{i}.md").write_text(("lorem ipsum " * 5462)[:65536])
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument("--skills", type=int, default=1000, help="skills on the server")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--skip-create", action="store_true", help="only list, search and get (prints JSON)"
    )
    args = parser.parse_args()

    cli = executable("better-skills")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="cli-skills-") as tmp:
        folder = Path(tmp)
        # Without PYTHONDONTWRITEBYTECODE: an installed CLI has its bytecode cached, so the
        # warm-up runs write it, as pip does at install time.
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("BETTER_SKILLS_TOKEN", "SERVER_URL", "PYTHONDONTWRITEBYTECODE")
        }
        env.update({"XDG_CONFIG_HOME": str(folder / "config"), "NO_COLOR": "1"})
        with local_server(folder) as url:
            token, expires_in = obtain_token(url)
            write_session(folder / "config", token, expires_in)
            env["SERVER_URL"] = url
            seed(url, token, args.skills)
            runs, warmup = args.runs, args.warmup
            for name, argv in (
                ("list", [cli, "list"]),
                ("list --all", [cli, "list", "--all"]),
                ("search", [cli, "search", "bench"]),
                ("get", [cli, "get", "personal/bench-skill-7"]),
            ):
                cpu: list[float] = []
                results[name] = summarise(time_runs(argv, env, runs, warmup, cpu))
                results[name]["cpu_median_ms"] = round(statistics.median(cpu), 1)
            if args.skip_create:
                results["load_average"] = {"after": os.getloadavg()[0]}
                print(json.dumps({"runs": args.runs, "results": results}, indent=2))
                return
            samples = []
            for index in range(warmup + runs):
                big = big_folder(folder, index)
                samples += time_runs([cli, "create", "--from", str(big)], env, 1, 0)
            results["create 1 MiB"] = summarise(samples[warmup:])
        results["load_average"] = {"after": os.getloadavg()[0]}

    if args.json:
        print(json.dumps({"runs": args.runs, "results": results}, indent=2))
        return
    load = results.pop("load_average")
    print(
        f"better-skills skill commands, {args.skills} skills on the server, {args.runs} runs "
        f"each (after {args.warmup} warm-up); load average {load['after']:.2f}"
    )
    print(f"{'command':<14} {'median':>9} {'min':>9} {'p90':>9} {'cpu':>9}   target")
    for name, figures in results.items():
        target = TARGETS_MS[name]
        verdict = ""
        if target:
            verdict = f"< {target:g} ms {'ok' if figures['median_ms'] < target else 'MISSED'}"
        print(
            f"{name:<14} {figures['median_ms']:>6.1f} ms {figures['min_ms']:>6.1f} ms "
            f"{figures['p90_ms']:>6.1f} ms {figures.get('cpu_median_ms', 0):>6.1f} ms   {verdict}"
        )


if __name__ == "__main__":
    main()
