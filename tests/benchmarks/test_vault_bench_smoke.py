"""A smoke run of ``benchmarks/vault_bench.py`` (and so of ``vault_seed.py``) on a tiny vault.

Nothing here judges speed: it checks that the seeder loads a vault the server serves, and
that every scenario gets the answers it expects.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "vault_bench.py"
SCENARIOS = {
    "list",
    "get",
    "search-common",
    "search-rare",
    "search-two",
    "manifest",
    "manifest-304",
    "bundle",
    "create",
    "update",
    "trpc-list",
    "trpc-search",
    "trpc-sync",
}


@pytest.mark.slow
@pytest.mark.timeout(900)  # a server, ten sign-ups, a seed and 13 scenarios: minutes when busy
@pytest.mark.skipif(shutil.which("wrk") is None, reason="the vault benchmark drives wrk")
def test_vault_benchmark_runs(tmp_path: Path, backend: str) -> None:
    out = tmp_path / "vault.json"
    env = dict(os.environ)
    if "TEST_POSTGRES_URL" in env:
        env["BENCH_POSTGRES_URL"] = env["TEST_POSTGRES_URL"]
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--backends",
            backend,
            "--skills",
            "300",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--connections",
            "4",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=800,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    (run,) = report["runs"]
    assert run["skills"] == 300
    # The shared team vault holds all 300 (the first 500 go there), plus the default skill.
    assert run["manifest_items"] == 301
    totals = run["search_totals"]
    assert totals["zanzibar"] == 1 and totals["deploy"] >= 50 and totals["wi"] > 0
    by_key = {r["key"]: r for r in report["results"]}
    assert set(by_key) == SCENARIOS
    for key, r in by_key.items():
        assert r["requests"] > 0, key
        assert r["ok_share"] == 1.0, (key, r["first_unexpected"])
        assert r["socket_errors"] == 0, key
