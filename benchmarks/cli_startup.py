"""Start-up time of the ``better-skills`` CLI: median wall time of real processes.

Measures ``better-skills --version``, ``better-skills --help`` and ``better-skills whoami``
(the last against a local server that this script starts, with a fresh SQLite database and a
session obtained through the real device flow). Each command is run a few times to warm the
file cache, then ``--runs`` times; the script prints the median, the fastest and the 90th
percentile, and the bare interpreter start-up for reference.

    .venv/bin/python benchmarks/cli_startup.py            # 30 runs of each
    .venv/bin/python benchmarks/cli_startup.py --runs 100 --json

A benchmark, not a test: the numbers depend on the machine. Results: docs/performance-cli.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from better_skills.protocol.device_flow import (
    CLIENT_ID,
    DEFAULT_SCOPE,
    DEVICE_CODE_GRANT_TYPE,
    Paths,
)

TARGETS_MS = {"--version": 40.0, "whoami": 200.0}

#: How long the server may take to start (a loaded machine needs more than 30 s).
STARTUP_WAIT = 120.0


def executable(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        sys.exit(f"{name} not found; install the project first (pip install -e '.[dev]').")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def local_server(folder: Path) -> Iterator[str]:
    """``better-skills-server`` on a free loopback port with its own SQLite database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": url,
        "SECRET_KEY": "cli-startup-benchmark-" + "x" * 32,
        "XDG_DATA_HOME": str(folder / "data"),
        "POLL_INTERVAL": "1",
        "LOG_LEVEL": "warning",
        # cli_skills.py seeds 1,000 skills: far more writes a minute than a person makes.
        "RATE_LIMIT_WRITES": "1000000000/1m",
    }
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [executable("better-skills-server")], env=env, cwd=folder, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + STARTUP_WAIT
        while True:
            if process.poll() is not None:
                sys.exit(f"the server exited early; see {folder / 'server.log'}")
            try:
                if httpx.get(url + Paths.HEALTH, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"the server did not become healthy within {STARTUP_WAIT:g} s")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def obtain_token(url: str) -> tuple[str, int]:
    """Run the device flow over HTTP (a browser user approves) and return (token, expires_in)."""
    with (
        httpx.Client(base_url=url, timeout=10) as device,
        httpx.Client(base_url=url, timeout=10, headers={"Origin": url}) as browser,
    ):
        issued = device.post(
            Paths.DEVICE_CODE, json={"client_id": CLIENT_ID, "scope": DEFAULT_SCOPE}
        ).json()
        browser.post(
            Paths.SIGN_UP_EMAIL,
            json={
                "name": "Bench Mark",
                "email": "bench@example.com",
                "password": "benchmark pw 123",
            },
        ).raise_for_status()
        browser.get(Paths.DEVICE_VERIFY, params={"user_code": issued["user_code"]})
        browser.post(
            Paths.DEVICE_APPROVE, json={"userCode": issued["user_code"]}
        ).raise_for_status()
        time.sleep(issued.get("interval", 1) + 0.05)
        token = device.post(
            Paths.DEVICE_TOKEN,
            json={
                "grant_type": DEVICE_CODE_GRANT_TYPE,
                "device_code": issued["device_code"],
                "client_id": CLIENT_ID,
            },
        )
        token.raise_for_status()
        body = token.json()
        return body["access_token"], int(body["expires_in"])


def write_session(config_home: Path, token: str, expires_in: int) -> None:
    """The session file exactly as ``better-skills login`` writes it."""
    from better_skills.client.session_store import SessionStore, StoredSession

    now = datetime.now(UTC)
    store = SessionStore(config_home / "better-skills" / "session.json")
    store.save(StoredSession(token, "Bearer", now, now + timedelta(seconds=expires_in)))


def time_runs(
    argv: Sequence[str],
    env: dict[str, str],
    runs: int,
    warmup: int,
    cpu: list[float] | None = None,
) -> list[float]:
    """Wall times in milliseconds of ``runs`` complete runs (process start to exit); with
    ``cpu``, the CPU time (user + sys) of each run is appended to it, in milliseconds."""
    import resource

    samples = []
    for index in range(warmup + runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(argv, env=env, capture_output=True, check=False)
        elapsed = (time.perf_counter() - started) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.decode()}")
        if index >= warmup:
            samples.append(elapsed)
            if cpu is not None:
                used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                cpu.append(used * 1000)
    return samples


def summarise(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "min_ms": round(ordered[0], 1),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per command")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    cli = executable("better-skills")
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as tmp:
        folder = Path(tmp)
        config_home = folder / "config"
        env = {
            k: v for k, v in os.environ.items() if k not in ("BETTER_SKILLS_TOKEN", "SERVER_URL")
        }
        env.update({"XDG_CONFIG_HOME": str(config_home), "NO_COLOR": "1"})
        results: dict[str, dict[str, float]] = {}
        results["python -c pass"] = summarise(
            time_runs([sys.executable, "-c", "pass"], env, args.runs, args.warmup)
        )
        results["--version"] = summarise(time_runs([cli, "--version"], env, args.runs, args.warmup))
        results["--help"] = summarise(time_runs([cli, "--help"], env, args.runs, args.warmup))
        with local_server(folder) as url:
            token, expires_in = obtain_token(url)
            write_session(config_home, token, expires_in)
            env["SERVER_URL"] = url
            results["whoami"] = summarise(time_runs([cli, "whoami"], env, args.runs, args.warmup))

    if args.json:
        print(json.dumps({"runs": args.runs, "results": results}, indent=2))
        return
    print(f"better-skills start-up, {args.runs} runs each (after {args.warmup} warm-up runs)")
    print(f"{'command':<18} {'median':>9} {'min':>9} {'p90':>9}   target")
    for name, figures in results.items():
        target = TARGETS_MS.get(name)
        verdict = ""
        if target is not None:
            ok = figures["median_ms"] < target
            verdict = f"< {target:g} ms {'ok' if ok else 'MISSED'}"
        print(
            f"{name:<18} {figures['median_ms']:>6.1f} ms {figures['min_ms']:>6.1f} ms "
            f"{figures['p90_ms']:>6.1f} ms   {verdict}"
        )


if __name__ == "__main__":
    main()
