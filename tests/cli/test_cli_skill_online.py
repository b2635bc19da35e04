"""The offline parts of the skill commands: what a hostile server's files can do to ``clone``,
``diff``'s change lists, and the clone marker."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from better_skills.cli.commands.clone import _placed, _write_into, skill_files
from better_skills.cli.commands.diff import changes
from better_skills.cli.skill_folder import FolderError
from better_skills.cli.skill_online import (
    CLONE_MARKER,
    CloneMarker,
    clean_block,
    read_marker,
    write_marker,
)
from better_skills.client.errors import UnexpectedResponse


def test_skill_files_decodes_text_and_base64_and_checks_sha256() -> None:
    blob = bytes(range(256))
    files = skill_files(
        {
            "files": [
                {
                    "path": "SKILL.md",
                    "content": "a\r\nb",
                    "sha256": hashlib.sha256(b"a\r\nb").hexdigest(),
                },
                {"path": "x.bin", "content_base64": base64.b64encode(blob).decode()},
            ]
        }
    )
    assert files == {"SKILL.md": b"a\r\nb", "x.bin": blob}
    with pytest.raises(UnexpectedResponse, match="damaged"):
        skill_files({"files": [{"path": "a", "content": "x", "sha256": "0" * 64}]})
    with pytest.raises(UnexpectedResponse):
        skill_files({"files": [{"path": "a"}]})
    with pytest.raises(UnexpectedResponse):
        skill_files({"files": [{"path": "a", "content_base64": "***"}]})


@pytest.mark.parametrize("path", ["../evil", "/etc/passwd", "a/../../b", "a\\..\\b", ".", ""])
def test_clone_refuses_paths_outside_the_folder(tmp_path: Path, path: str) -> None:
    with pytest.raises(UnexpectedResponse, match="unsafe"):
        _placed(tmp_path / "skill", {"SKILL.md": b"x", path: b"y"})
    assert not (tmp_path / "evil").exists()


def test_clone_does_not_write_through_a_symlinked_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "skill"
    root.mkdir()
    (root / "references").symlink_to(outside)
    with pytest.raises(FolderError):
        _write_into(root, {"references/x.md": b"x"})
    assert list(outside.iterdir()) == []


def test_changes_lists_added_removed_modified() -> None:
    remote = {"SKILL.md": b"a\nb\n", "gone.md": b"x", "same.md": b"s", "img.bin": b"\x00\x01"}
    local = {"SKILL.md": b"a\nc\n", "new.md": b"n", "same.md": b"s", "img.bin": b"\x00\x02"}
    result = changes(remote, local)
    assert result["added"] == ["new.md"]
    assert result["removed"] == ["gone.md"]
    assert result["unchanged"] == 1
    by_path = {m["path"]: m for m in result["modified"]}
    assert by_path["img.bin"] == {"path": "img.bin", "binary": True, "diff": None}
    assert "-b\n+c\n" in by_path["SKILL.md"]["diff"]
    assert changes(remote, dict(remote)) == {
        "added": [], "removed": [], "modified": [], "unchanged": 4
    }  # fmt: skip


def test_marker_round_trip_and_damaged_marker(tmp_path: Path) -> None:
    marker = CloneMarker("id-1", "personal", "tool", '"abc"', "http://localhost:3000")
    write_marker(tmp_path, marker)
    assert read_marker(tmp_path) == marker
    (tmp_path / CLONE_MARKER).write_text("{not json")
    assert read_marker(tmp_path) is None
    assert read_marker(tmp_path / "missing") is None


def test_clean_block_keeps_lines_and_indentation() -> None:
    assert clean_block("a\n    b\x1b[2J\n\tc\x07") == "a\n    b\n\tc"
