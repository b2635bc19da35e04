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


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("wrk") is None, reason="the vault benchmark drives wrk")
def test_a_kept_vault_is_measured_again_without_seeding(tmp_path: Path, backend: str) -> None:
    """``--reuse`` seeds a size once into ``--data`` and measures a copy of it each run."""
    import secrets

    env = dict(os.environ)
    if "TEST_POSTGRES_URL" in env:
        env["BENCH_POSTGRES_URL"] = env["TEST_POSTGRES_URL"]
    name = f"bs_test_kept_{secrets.token_hex(4)}"
    command = [
        sys.executable, str(SCRIPT), "--reuse", "--data", str(tmp_path / "data"),
        "--backends", backend, "--skills", "40", "--duration", "1", "--warmup", "0",
        "--connections", "2", "--scenarios", "list,create",
        *(["--database", name] if backend == "postgres" else []),
    ]  # fmt: skip
    try:
        runs = [
            subprocess.run(command, capture_output=True, text=True, timeout=400, cwd=ROOT, env=env)
            for _ in range(2)
        ]
        for done in runs:
            assert done.returncode == 0, done.stdout + done.stderr
            assert "| POST /api/v1/skills (20 files) | ≥ 150/s |" in done.stdout
        assert "building 40 skills" in runs[0].stderr
        assert "building" not in runs[1].stderr
        # The second run's creates (slugs b-1, b-2, ...) do not meet the first run's: each run
        # writes to a copy of the kept vault.
        assert "conflict" not in runs[1].stderr.lower()
        record = json.loads((tmp_path / "data" / f"{backend}-40.json").read_text())
        assert record["skills"] == 40 and record["seed_cpu_seconds"] >= 0
    finally:
        if backend == "postgres":
            import psycopg

            admin = env.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
