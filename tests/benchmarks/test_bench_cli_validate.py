"""A smoke run of ``benchmarks/cli_validate.py``: the generated folder validates with
``--strict`` and the script prints its figures. Nothing here judges speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_validate_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cli_validate.py"), "--runs", "1", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data["results"]) == {
        "python -c pass",
        "better-skills --version",
        "better-skills validate (100 files)",
    }
    assert all(row["median_ms"] > 0 for row in data["results"].values())
    assert all(row["cpu_median_ms"] > 0 for row in data["results"].values())
