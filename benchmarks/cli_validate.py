"""Wall time of ``better-skills validate`` on a generated 100-file skill folder.

The folder is what a real skill looks like, only bigger: a ``SKILL.md`` that mentions every
file through draft mentions, 80 Markdown references (each about 4 KB, with code blocks, links
and a mention), 10 scripts and 9 binary assets. ``validate --strict --json`` must pass on it,
so every rule runs (frontmatter, paths, sizes, mention syntax, drafts, the Agent Skills
specification through ``skills-ref``, coverage). Each run is a complete process; after 3 untimed
warm-up runs the script prints the median, the minimum and the 90th percentile of the wall time,
and the median CPU time (user + system) of the process, which depends less on other load.

The processes run as an installed CLI does, with compiled bytecode: ``PYTHONDONTWRITEBYTECODE``
is dropped and the bytecode goes to a temporary ``PYTHONPYCACHEPREFIX`` (filled by the warm-up).

    .venv/bin/python benchmarks/cli_validate.py              # 30 runs
    .venv/bin/python benchmarks/cli_validate.py --runs 50 --files 100 --json

A benchmark, not a test: the numbers depend on the machine. Target: under 300 ms (issue 12).
Results: docs/performance.md, "CLI: validate".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 300.0

PARAGRAPH = (
    "Run the deploy script from the repository root and watch the output. If a step fails, "
    "read the log, fix the cause and run it again; never edit the generated files by hand.\n"
)


def make_skill(root: Path, files: int) -> None:
    """A skill folder of ``files`` files (SKILL.md included) that passes validate --strict."""
    root.mkdir(parents=True)
    paths: list[str] = []
    scripts, assets = max(1, files // 10), max(1, files // 10 - 1)
    references = files - 1 - scripts - assets
    for i in range(references):
        path = f"references/topic-{i:03d}.md"
        body = f"# Topic {i}\n\n" + PARAGRAPH * 12
        body += "\n```sh\n./scripts/run.sh [[skill:not-a-mention-in-code]]\n```\n"
        body += f"\nSee `references/topic-{i:03d}.md` and https://example.com/docs/{i}.\n"
        write(root / path, body.encode())
        paths.append(path)
    for i in range(scripts):
        path = f"scripts/step-{i:02d}.sh"
        write(root / path, b"#!/bin/sh\nset -eu\necho step\n" * 20)
        paths.append(path)
    for i in range(assets):
        path = f"assets/image-{i:02d}.png"
        write(root / path, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
        paths.append(path)
    mentions = "\n".join(f"- [[resource:new:{path}]]" for path in paths)
    skill = (
        f"---\nname: {root.name}\ndescription: A generated skill of {files} files for the "
        f"validate benchmark.\nlicense: MIT\n---\n\n# {root.name}\n\n{PARAGRAPH * 5}\n"
        f"## Files\n\n{mentions}\n"
    )
    write(root / "SKILL.md", skill.encode())


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def timed(args: list[str], runs: int, env: dict[str, str], *, warmup: int = 3) -> list[float]:
    """Wall times in ms of ``runs`` processes; their CPU times are appended to ``CPU[args]``."""
    times: list[float] = []
    cpu: list[float] = []
    for index in range(warmup + runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, check=False, env=env)
        elapsed = (time.perf_counter() - start) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout.decode()}")
        if index >= warmup:
            times.append(elapsed)
            used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            cpu.append(used * 1000)
    CPU[" ".join(args)] = cpu
    return times


CPU: dict[str, list[float]] = {}


def summary(args: list[str], times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "min_ms": round(ordered[0], 1),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 1),
        "cpu_median_ms": round(statistics.median(CPU[" ".join(args)]), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    options = parser.parse_args()

    found = shutil.which("better-skills", path=str(Path(sys.executable).parent))
    if not found:
        sys.exit("better-skills not found; install the project first (pip install -e '.[dev]').")
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as temp:
        folder = Path(temp) / "bench-skill"
        make_skill(folder, options.files)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(temp) / "pycache")
        command = [found, "validate", str(folder), "--strict", "--json"]
        done = subprocess.run(command, capture_output=True, check=False, env=env)
        report = json.loads(done.stdout)
        if not report["ok"] or report["files"] != options.files:
            sys.exit(f"the generated folder does not validate: {report}")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "better-skills --version": [found, "--version"],
            f"better-skills validate ({options.files} files)": command,
        }
        results = {
            name: summary(args, timed(args, options.runs, env)) for name, args in commands.items()
        }
    if options.json:
        print(json.dumps({"runs": options.runs, "target_ms": TARGET_MS, "results": results}))
        return
    print(f"{options.runs} runs each, milliseconds (target for validate: < {TARGET_MS:g} ms)")
    print(f"{'command':<40} {'median':>8} {'min':>8} {'p90':>8} {'cpu':>8}")
    for name, row in results.items():
        print(
            f"{name:<40} {row['median_ms']:>8} {row['min_ms']:>8} {row['p90_ms']:>8}"
            f" {row['cpu_median_ms']:>8}"
        )


if __name__ == "__main__":
    main()
