"""``better-skills validate`` in-process: output, exit codes, --strict, --json."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Harness

GOOD = "---\nname: demo\ndescription: A demo.\n---\n# Demo\n"


def make(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def test_a_valid_folder(harness: Harness, run_cli: Callable[..., int]) -> None:
    make(harness.tmp_path / "demo", {"SKILL.md": GOOD})
    assert run_cli("validate", "demo") == 0
    assert "demo is valid: 1 file(s), 0 mention(s), 0 errors, 0 warnings." in harness.err
    assert harness.out == ""


def test_errors_with_file_and_line_exit_1(harness: Harness, run_cli: Callable[..., int]) -> None:
    make(
        harness.tmp_path / "demo",
        {
            "SKILL.md": "---\nname: demo\n---\n\n[[skill:nope]]\n",
            "ok.md": "x",
            "assets/bin.dat": b"\0\xff",
        },
    )
    assert run_cli("validate", "demo") == 1
    out = harness.out
    assert "SKILL.md: The frontmatter needs a non-empty string 'description'." in out
    assert "SKILL.md:5: Invalid mention syntax: [[skill:nope]] target must be a uuid" in out
    assert "[invalid_mention]" in out
    assert "ok.md: No mention reaches this file" in out  # a warning, shown too
    assert "demo is not valid: 3 file(s), 0 mention(s), 2 errors, 2 warnings." in harness.err
    assert "Traceback" not in harness.err


def test_warnings_fail_only_with_strict(harness: Harness, run_cli: Callable[..., int]) -> None:
    make(harness.tmp_path / "demo", {"SKILL.md": GOOD, "notes.md": "x"})
    assert run_cli("validate", "demo") == 0
    assert "1 warning" in harness.err
    assert run_cli("validate", "demo", "--strict") == 1
    assert "--strict makes them fail" in harness.err


def test_json_shape(harness: Harness, run_cli: Callable[..., int]) -> None:
    make(
        harness.tmp_path / "demo",
        {"SKILL.md": GOOD + "[[resource:new:notes.md]] [[resource:new:gone.md]]\n", "notes.md": ""},
    )
    assert run_cli("validate", "demo", "--json") == 1
    data = json.loads(harness.out)
    assert data == {
        "ok": False,
        "errors": [
            {
                "code": "missing_draft_target",
                "message": "[[resource:new:gone.md]] names no file of this skill.",
                "path": "SKILL.md",
                "line": 6,
            }
        ],
        "warnings": [],
        "files": 2,
        "mentions": 2,
    }


def test_json_strict_ok_is_the_exit_status(harness: Harness, run_cli: Callable[..., int]) -> None:
    make(harness.tmp_path / "demo", {"SKILL.md": GOOD, "notes.md": "x"})
    assert run_cli("validate", "demo", "--json", "--strict") == 1
    data = json.loads(harness.out)
    assert data["ok"] is False
    assert data["errors"] == []
    assert [w["path"] for w in data["warnings"]] == ["notes.md"]


def test_missing_folder_is_invalid_not_a_crash(
    harness: Harness, run_cli: Callable[..., int]
) -> None:
    assert run_cli("validate", "nope", "--json") == 1
    data = json.loads(harness.out)
    assert data["ok"] is False
    assert data["errors"][0]["code"] == "not_a_directory"


@pytest.mark.parametrize("args", [[], ["a", "b"], ["--bogus", "x"]])
def test_usage_errors_exit_2(run_cli: Callable[..., int], args: list[str]) -> None:
    assert run_cli("validate", *args) == 2


def test_a_hostile_file_name_is_printed_cleanly(
    harness: Harness, run_cli: Callable[..., int]
) -> None:
    make(harness.tmp_path / "demo", {"SKILL.md": GOOD, "evil\x1b[31m.md": "x"})
    assert run_cli("validate", "demo") == 1
    assert "\x1b[31m" not in harness.out
