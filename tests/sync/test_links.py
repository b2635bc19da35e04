"""``LinkMaker`` on a real temporary folder: the link is made at once where the path is free,
and where something is in the way only our own link or copy is replaced."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from better_skills.sync.links import LinkMaker, NotOurs
from better_skills.sync.store import MARKER_NAME


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    (root / "personal--deploy").mkdir(parents=True)
    (root / "personal--deploy" / "SKILL.md").write_text("deploy\n")
    (root / "personal--deploy" / MARKER_NAME).write_text("{}")
    return root


def _agent_path(tmp_path: Path) -> Path:
    return tmp_path / "agent" / "skills" / "personal--deploy"


def test_a_free_path_gets_a_relative_link(tmp_path: Path, store: Path) -> None:
    path = _agent_path(tmp_path)
    target = LinkMaker(store).make(path, store / "personal--deploy", "now")
    assert target.mode == "symlink" and target.path == str(path)
    assert not os.path.isabs(os.readlink(path))
    assert (path / "SKILL.md").read_text() == "deploy\n"


def test_a_link_of_ours_or_a_planted_one_is_replaced_and_not_followed(
    tmp_path: Path, store: Path
) -> None:
    path = _agent_path(tmp_path)
    path.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n")
    path.symlink_to(elsewhere)
    LinkMaker(store).make(path, store / "personal--deploy", "now")
    assert os.path.realpath(path) == os.path.realpath(store / "personal--deploy")
    assert (elsewhere / "keep.txt").read_text() == "mine\n"  # the old target is untouched


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_person_s_own_folder_or_file_is_left_alone(
    tmp_path: Path, store: Path, kind: str
) -> None:
    path = _agent_path(tmp_path)
    path.parent.mkdir(parents=True)
    if kind == "folder":
        path.mkdir()
        (path / "SKILL.md").write_text("my own\n")
    else:
        path.write_text("my own\n")
    with pytest.raises(NotOurs):
        LinkMaker(store).make(path, store / "personal--deploy", "now")
    mine = path / "SKILL.md" if kind == "folder" else path
    assert not path.is_symlink() and mine.read_text() == "my own\n"


def test_a_refused_symlink_falls_back_to_a_copy_over_our_old_link(
    tmp_path: Path, store: Path
) -> None:
    path = _agent_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.symlink_to(store / "personal--deploy")

    def refuse(target: str, where: Path) -> None:
        raise OSError(errno.EPERM, "symlinks are not supported here")

    made = LinkMaker(store, symlink=refuse).make(path, store / "personal--deploy", "now")
    assert made.mode == "copy" and made.symlink_failed
    assert not path.is_symlink() and (path / "SKILL.md").read_text() == "deploy\n"


def test_a_read_only_agent_folder_is_an_error_not_a_copy(tmp_path: Path, store: Path) -> None:
    path = _agent_path(tmp_path)

    def read_only(target: str, where: Path) -> None:
        raise OSError(errno.EROFS, "read-only file system")

    with pytest.raises(OSError) as caught:
        LinkMaker(store, symlink=read_only).make(path, store / "personal--deploy", "now")
    assert caught.value.errno == errno.EROFS and not os.path.lexists(path)
