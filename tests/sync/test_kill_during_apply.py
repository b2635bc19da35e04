"""SIGKILL in the middle of applying a plan, then sync again: the store and the lock are
consistent, and the result is the same as an uninterrupted sync."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sync.fakes import scripted_vault, sync

CHILD = """
import os, signal, sys
from pathlib import Path
from tests.sync import fakes
from better_skills.sync import apply

home, kill_at = Path(sys.argv[1]), int(sys.argv[2])
calls = 0
real = os.rename

def rename(src, dst, *a, **k):
    # Die on the N-th rename: between the old folder moving aside and the new one moving in,
    # or between two skills.
    global calls
    calls += 1
    if calls == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *a, **k)

apply.os.rename = rename
fakes.sync(home, fakes.scripted_vault(1))
print("finished")
"""


def tree(home: Path) -> dict[str, object]:
    """Everything under home except times: files by content, links by target."""
    result: dict[str, object] = {}
    for folder, dirs, files in os.walk(home):
        for name in dirs + files:
            path = Path(folder, name)
            rel = str(path.relative_to(home))
            if name in ("lock.json", ".better-skills-install.json", ".sync.lock"):
                continue
            if path.is_symlink():
                result[rel] = "-> " + os.readlink(path)
            elif path.is_file():
                result[rel] = path.read_bytes()
    return result


def lock_without_times(home: Path) -> dict[str, object]:
    text = (home / ".better-skills" / "skills" / "lock.json").read_text()
    data = json.loads(text.replace(str(home), "HOME"))
    for entry in data["skills"].values():
        entry.pop("updatedAt")
        entry.pop("statFingerprint")  # inodes and mtimes differ between two folders
        for target in entry["targets"].values():
            target.pop("installedAt")
    data.pop("updatedAt")
    return data


@pytest.mark.parametrize("kill_at", [1, 2, 3, 8, 13, 16])
def test_sigkill_during_apply_then_sync_again(tmp_path: Path, kill_at: int) -> None:
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    for home in (killed, clean):
        home.mkdir()
        assert sync(home, scripted_vault(0)).result.ok  # type: ignore[union-attr]
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(killed), str(kill_at)],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -9, child.stderr  # really killed mid-apply
    result = sync(killed, scripted_vault(1)).result
    assert result is not None and result.ok, result.failed
    assert not result.kept  # our own half-finished work is never mistaken for a person's edit
    assert sync(clean, scripted_vault(1)).result.ok  # type: ignore[union-attr]
    assert tree(killed) == tree(clean)
    a, b = lock_without_times(killed), lock_without_times(clean)
    for key in sorted(set(a["skills"]) | set(b["skills"])):
        assert a["skills"].get(key) == b["skills"].get(key), key
    assert a == b
    assert sync(killed, scripted_vault(1), dry_run=True).plan.is_empty
