"""``scripts/bootstrap`` on a machine whose Python lacks the venv module (issue 15 item 9)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_missing_venv_module_is_named_with_the_package_to_install(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap", tmp_path / "scripts" / "bootstrap")
    shims = tmp_path / "bin"
    shims.mkdir()
    # A Python like Debian's without python3-venv: `import ensurepip` fails, the rest works.
    shim = shims / "python3.13"
    shim.write_text(
        "#!/bin/sh\n"
        'case "$2" in *ensurepip*) echo "No module named ensurepip" >&2; exit 1;; esac\n'
        f'exec {sys.executable} "$@"\n'
    )
    shim.chmod(0o755)
    result = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "bootstrap")],
        env={**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no working venv module" in result.stderr
    assert "sudo apt install python3-venv" in result.stderr
    assert not (tmp_path / ".venv").exists()
