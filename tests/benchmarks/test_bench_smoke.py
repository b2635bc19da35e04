"""A smoke run of ``benchmarks/run.py`` with a tiny duration, so that the script keeps working.

Benchmarks are not tests: nothing here judges speed. It checks that the script starts the
server, prepares its data, drives every scenario with wrk (when installed) and with the Python
fallback load generator, gets the expected answers, and prints its table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "run.py"
SCENARIOS = {"get-session", "device-code", "token-slow-down", "token-pending", "get-session-big"}


def run_bench(tmp_path: Path, backend: str, *extra: str) -> dict:
    out = tmp_path / "bench.json"
    env = dict(os.environ)
    if "TEST_POSTGRES_URL" in env:
        env["BENCH_POSTGRES_URL"] = env["TEST_POSTGRES_URL"]
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--backends",
            backend,
            "--duration",
            "1",
            "--warmup",
            "0",
            "--workers",
            "1",
            "--connections",
            "8",
            # Enough that no code is polled twice within the 1 s interval at a few thousand rps.
            "--pending-codes",
            "8000",
            "--big-sessions",
            "3000",
            "--big-codes",
            "300",
            "--big-users",
            "30",
            "--json",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "get-session" in done.stdout and "server RSS" in done.stdout, done.stdout
    return json.loads(out.read_text())


def check(report: dict, backend: str) -> None:
    (result,) = report["reports"]
    assert result["backend"] == backend
    assert result["big_rows"]["sessions"] >= 3000
    assert result["big_rows"]["device_codes"] >= 600
    assert result["rss_idle_mib"] > 0
    by_name = {r["scenario"]: r for r in result["results"]}
    assert set(by_name) == SCENARIOS
    for name, r in by_name.items():
        assert r["requests"] > 0, name
        assert r["rps"] > 0 and r["p99_ms"] >= r["p50_ms"] > 0, name
        # Every answer is the one the scenario aims at (slow_down's first poll is pending).
        assert r["ok_share"] > 0.95, (name, r["first_unexpected"])
        assert r["socket_errors"] == 0, name


@pytest.mark.slow
def test_benchmark_script_runs(tmp_path: Path, backend: str) -> None:
    check(run_bench(tmp_path, backend), backend)


@pytest.mark.slow
def test_benchmark_script_python_load_generator(tmp_path: Path) -> None:
    check(run_bench(tmp_path, "sqlite", "--loadgen", "python"), "sqlite")
