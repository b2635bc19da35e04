"""``install_share`` against hostile or awkward packages, on disk (no server needed): nothing
lands outside the store, a person's own folders are left alone, a repeat replaces its own."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from better_skills.protocol.shares import parse_share_ref, share_install_key
from better_skills.sync.agents import FolderGroup
from better_skills.sync.apply import Bundle
from better_skills.sync.share_install import SharedSkill, SharePackage, install_share

SHARE = "0f1e2d3c-4b5a-4697-8887-766554433221"


def package(*skills: tuple[str, dict[str, bytes]]) -> SharePackage:
    return SharePackage(
        SHARE,
        "2026-11-30T00:00:00.000Z",
        [
            SharedSkill(Bundle(f"id-{slug}", "", files), slug, slug.title(), "")
            for slug, files in skills
        ],
    )


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, list[FolderGroup]]:
    agent = tmp_path / "home" / ".claude" / "skills"
    return tmp_path / "home" / ".better-skills" / "skills", [FolderGroup(agent, ("claude-code",))]


def files_under(root: Path) -> set[str]:
    return {
        str(Path(folder, name).relative_to(root))
        for folder, _, names in os.walk(root)
        for name in names
    }


@pytest.mark.parametrize(
    "path", ["../escape.md", "/etc/passwd-copy", "a/../../escape.md", "", "..", "x\0y"]
)
def test_paths_that_escape_are_refused(places, tmp_path: Path, path: str) -> None:
    root, groups = places
    before = files_under(tmp_path)
    result = install_share(
        root,
        groups,
        package(("evil", {"SKILL.md": b"---\nname: e\n---\n", path: b"owned"})),
        server_url="http://s",
    )
    assert result.installed == [] and len(result.failed) == 1
    after = files_under(tmp_path) - before
    # Only the store's own bookkeeping: the lock and the sync lock file.
    assert all(p.startswith("home/.better-skills/skills/") for p in after), after
    assert not any("escape" in p or "owned" in p for p in after)
    assert not (root / share_install_key(SHARE, "evil")).exists()


def test_hostile_slugs_stay_one_folder_in_the_store(places) -> None:
    root, groups = places
    result = install_share(
        root,
        groups,
        package(("../../../outside", {"SKILL.md": b"x"}), ("/abs", {"SKILL.md": b"y"})),
        server_url="http://s",
    )
    assert len(result.installed) == 2
    for key in result.installed:
        assert "/" not in key and key.startswith("shared-0f1e2d3c-")
        assert (root / key).parent == root
        assert (groups[0].path / key).is_symlink()


def test_a_persons_own_folders_are_left_alone_and_repeats_replace_ours(places) -> None:
    root, groups = places
    key = share_install_key(SHARE, "mine")
    own = groups[0].path / key
    own.mkdir(parents=True)
    (own / "notes.md").write_text("mine")
    first = install_share(root, groups, package(("mine", {"SKILL.md": b"v1"})), server_url="s")
    assert first.installed == [key] and "not ours" in first.skipped[0][1]
    assert (own / "notes.md").read_text() == "mine" and not own.is_symlink()

    (own / "notes.md").unlink()
    own.rmdir()
    again = install_share(root, groups, package(("mine", {"SKILL.md": b"v2"})), server_url="s")
    assert again.installed == [key] and not again.skipped
    assert (own / "SKILL.md").read_bytes() == b"v2"
    lock = json.loads((root / "lock.json").read_text())
    assert lock["skills"][key]["origin"] == "share"
    assert lock["skills"][key]["targets"]["claude-code"]["path"] == str(own)


def test_two_skills_wanting_one_folder(places) -> None:
    root, groups = places
    result = install_share(
        root, groups, package(("a", {"SKILL.md": b"1"}), ("A", {"SKILL.md": b"2"})), server_url="s"
    )
    assert len(result.installed) == 1 and "two skills" in result.failed[0][1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SHARE, SHARE),
        (SHARE.upper(), SHARE),
        (f"https://skills.example.com/share/{SHARE}", SHARE),
        (f"http://localhost:3000/share/{SHARE}?skill=x#y", SHARE),
        (f"https://h/prefix/share/{SHARE}/", SHARE),
        ("https://h/share/not-an-id", None),
        (f"https://h/skills/{SHARE}", None),
        (f"javascript:/share/{SHARE}", None),
        ("", None),
        ("x" * 5000, None),
    ],
)
def test_share_references(text: str, expected: str | None) -> None:
    assert parse_share_ref(text) == expected
