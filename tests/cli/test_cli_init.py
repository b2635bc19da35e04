"""``better-skills init`` in-process: the scaffold validates, nothing is overwritten."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from better_skills.cli.commands import init
from better_skills.skillfmt import rules
from better_skills.skillfmt.rules import check_folder
from tests.cli.conftest import Harness


def test_scaffold_passes_strict_validation(harness: Harness, run_cli: Callable[..., int]) -> None:
    assert run_cli("init", "deploy-app") == 0
    folder = harness.tmp_path / "deploy-app"
    assert sorted(p.name for p in folder.iterdir()) == ["SKILL.md"]
    report = check_folder(folder)
    assert report.problems == []
    assert "Created deploy-app/SKILL.md." in harness.err
    assert run_cli("validate", "deploy-app", "--strict") == 0


def test_to_an_empty_existing_folder(harness: Harness, run_cli: Callable[..., int]) -> None:
    (harness.tmp_path / "here").mkdir()
    assert run_cli("init", "demo", "--to", "here", "--json") == 0
    data = json.loads(harness.out)
    assert data == {
        "name": "demo",
        "folder": str(harness.tmp_path / "here"),
        "files": ["SKILL.md"],
    }
    assert (harness.tmp_path / "here" / "SKILL.md").is_file()
    assert check_folder(harness.tmp_path / "here").errors == []


def test_a_different_folder_name_is_pointed_out(
    harness: Harness, run_cli: Callable[..., int]
) -> None:
    assert run_cli("init", "demo", "--to", "elsewhere") == 0
    assert "differs from the skill name" in harness.err


def test_refuses_a_non_empty_folder(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = harness.tmp_path / "demo"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    assert run_cli("init", "demo") == 1
    assert "demo already exists and is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    assert run_cli("init", "demo", "--json") == 1
    assert json.loads(capsys.readouterr().out)["error"] == "folder_not_empty"


def test_refuses_a_file(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    (harness.tmp_path / "demo").write_text("x")
    assert run_cli("init", "demo") == 1
    assert "demo exists and is not a folder" in capsys.readouterr().err
    assert (harness.tmp_path / "demo").read_text() == "x"


@pytest.mark.parametrize("name", ["Demo", "my skill", "x-", "a--b", "a" * 65, "é", "../x", "a.b"])
def test_bad_names_are_usage_errors(
    harness: Harness, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert run_cli("init", name) == 2
    assert "is not a skill name" in capsys.readouterr().err
    assert list(harness.tmp_path.iterdir()) == []


def test_init_takes_the_longest_name_validate_takes() -> None:
    assert init.MAX_NAME == rules.MAX_NAME
