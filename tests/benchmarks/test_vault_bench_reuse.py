"""A smoke run of ``benchmarks/vault_bench.py --reuse``: a vault seeded once into ``--data`` is
measured again on a copy, without seeding. A file of its own, apart from
test_vault_bench_smoke.py: each takes a minute or more, and pytest-xdist's ``--dist loadfile``
runs a file on one worker.
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
