"""``better-skills rewrite-links`` in-process: writes, dry run, bytes kept, --json."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Harness

SKILL = "---\nname: demo\ndescription: see notes.md\n---\nRead [the notes](notes.md).\r\n"


def make(root: Path) -> Path:
    (root / "references").mkdir(parents=True)
    (root / "SKILL.md").write_text(SKILL, newline="")
    (root / "notes.md").write_text("Back to `notes.md`; see references/api.md\n")
    (root / "references" / "api.md").write_text("no links here\n")
    (root / "assets").mkdir()
    (root / "assets" / "blob.bin").write_bytes(b"\0\xffnotes.md")
    (root / "data.txt").write_bytes(b"\xff\xfe not utf-8 notes.md")
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_rewrites_and_keeps_other_files(harness: Harness, run_cli: Callable[..., int]) -> None:
    root = make(harness.tmp_path / "demo")
    os.chmod(root / "notes.md", 0o600)
    before = snapshot(root)
    assert run_cli("rewrite-links", "demo") == 0
    assert harness.out == (
        "link rewrite complete\n"
        "2 link(s) rewritten in 2 file(s)\n"
        "- SKILL.md: 1\n"
        "- notes.md: 1\n"
        "scanned 3 file(s)\n"
    )
    assert (root / "SKILL.md").read_bytes() == (
        b"---\nname: demo\ndescription: see notes.md\n---\nRead [[resource:new:notes.md]].\r\n"
    )
    assert (root / "notes.md").read_text() == (
        "Back to `notes.md`; see [[resource:new:references/api.md]]\n"
    )
    assert (root / "notes.md").stat().st_mode & 0o777 == 0o600
    after = snapshot(root)
    for unchanged in ("references/api.md", "assets/blob.bin", "data.txt"):
        assert after[unchanged] == before[unchanged]  # same bytes, not even rewritten
    assert sorted(after) == sorted(before)  # no temporary files left
    harness.stdout.truncate(0)
    harness.stdout.seek(0)
    assert run_cli("rewrite-links", "demo") == 0
    assert "no local links to rewrite" in harness.out
    assert snapshot(root) == after


def test_dry_run_writes_nothing(harness: Harness, run_cli: Callable[..., int]) -> None:
    root = make(harness.tmp_path / "demo")
    before = snapshot(root)
    assert run_cli("rewrite-links", "demo", "--dry-run", "--json") == 0
    assert json.loads(harness.out) == {
        "dryRun": True,
        "replacements": 2,
        "files": [{"path": "SKILL.md", "replacements": 1}, {"path": "notes.md", "replacements": 1}],
        "scanned": 3,
    }
    assert snapshot(root) == before


def test_missing_folder_or_skill_md(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("rewrite-links", "nope") == 1
    assert "Folder not found: nope." in capsys.readouterr().err
    (harness.tmp_path / "empty").mkdir()
    assert run_cli("rewrite-links", "empty", "--json") == 1
    error = json.loads(capsys.readouterr().out)  # printed by main, as for every command
    assert (error["error"], error["message"]) == (
        "missing_skill_md",
        "SKILL.md not found in empty.",
    )
    (harness.tmp_path / "file").write_text("x")
    assert run_cli("rewrite-links", "file") == 1
    err = capsys.readouterr().err
    assert "file is not a folder." in err
    assert "Traceback" not in err


def test_a_symlinked_file_is_written_where_it_points(
    harness: Harness, run_cli: Callable[..., int]
) -> None:
    root = make(harness.tmp_path / "demo")
    (root / "references" / "real.md").write_text("see notes.md\n")
    (root / "link.md").symlink_to(root / "references" / "real.md")
    assert run_cli("rewrite-links", "demo") == 0
    assert (root / "link.md").is_symlink()
    assert (root / "references" / "real.md").read_text() == "see [[resource:new:notes.md]]\n"


def test_a_failed_write_changes_no_file(
    harness: Harness,
    run_cli: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The disk fills up while the second file is staged: neither file changes, and no
    temporary file is left behind."""
    import tempfile

    root = make(harness.tmp_path / "demo")
    before = snapshot(root)
    real_mkstemp = tempfile.mkstemp
    calls = []

    def mkstemp_then_full(*args: object, **kwargs: object) -> tuple[int, str]:
        calls.append(args)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_mkstemp(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp_then_full)
    assert run_cli("rewrite-links", "demo") == 1
    assert len(calls) == 2
    assert "Cannot write in demo" in capsys.readouterr().err
    assert snapshot(root) == before
