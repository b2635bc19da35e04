"""The executor on a temporary HOME: what lands where, and what is never touched."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from better_skills.client.errors import ServerUnreachable
from better_skills.sync.store import MARKER_NAME, read_lock
from tests.sync.fakes import FakeVault, sync


def snapshot(root: Path) -> dict[str, int]:
    """path -> mtime_ns of everything under root (symlinks not followed)."""
    result = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            result[path] = os.lstat(path).st_mtime_ns
    return result


def test_first_sync_installs_store_links_and_lock(tmp_path: Path) -> None:
    vault = FakeVault()
    vault.add(
        "personal", "deploy", {"SKILL.md": b"---\nname: deploy\n---\n", "scripts/run.sh": b"echo\n"}
    )
    outcome = sync(tmp_path, vault)
    assert outcome.result is not None and outcome.result.ok
    store = tmp_path / ".better-skills" / "skills"
    assert (store / "personal--deploy" / "scripts" / "run.sh").read_bytes() == b"echo\n"
    claude = tmp_path / ".claude" / "skills" / "personal--deploy"
    assert claude.is_symlink() and not os.path.isabs(os.readlink(claude))
    assert (claude / "SKILL.md").read_bytes().startswith(b"---")
    assert (tmp_path / ".agents" / "skills" / "personal--deploy").is_symlink()  # codex
    lock = json.loads((store / "lock.json").read_text())
    entry = lock["skills"]["personal--deploy"]
    # The original's reader fields are all there.
    for field_name in (
        "skillId",
        "slug",
        "name",
        "description",
        "canonicalPath",
        "source",
        "updatedAt",
        "targets",
    ):
        assert field_name in entry
    assert entry["source"]["type"] == "better-skills-api"
    assert set(entry["targets"]) == {"claude-code", "codex"}
    assert entry["targets"]["codex"]["mode"] == "symlink"
    marker = json.loads((store / "personal--deploy" / MARKER_NAME).read_text())
    assert marker["skillId"] == entry["skillId"]


def test_noop_sync_touches_nothing_and_makes_one_request(tmp_path: Path) -> None:
    vault = FakeVault()
    for n in range(5):
        vault.add("personal", f"s{n}")
    sync(tmp_path, vault)
    before = snapshot(tmp_path)
    vault.requests = 0
    outcome = sync(tmp_path, vault)
    assert outcome.plan.is_empty
    assert vault.requests == 1
    assert outcome.result is not None and not outcome.result.lock_written
    assert snapshot(tmp_path) == before


def test_file_change_rename_and_delete_reach_the_agents(tmp_path: Path) -> None:
    vault = FakeVault()
    a = vault.add("personal", "a")
    b = vault.add("personal", "b")
    c = vault.add("personal", "c")
    sync(tmp_path, vault)
    a.files["references/new.md"] = b"new\n"
    b.slug = "b2"
    del vault.skills[c.id]
    result = sync(tmp_path, vault).result
    assert result is not None and result.ok
    claude = tmp_path / ".claude" / "skills"
    assert (claude / "personal--a" / "references" / "new.md").read_bytes() == b"new\n"
    assert (claude / "personal--b2" / "SKILL.md").exists()
    assert not os.path.lexists(claude / "personal--b")
    assert not os.path.lexists(claude / "personal--c")
    assert not (tmp_path / ".better-skills" / "skills" / "personal--c").exists()
    assert set(read_lock(tmp_path / ".better-skills" / "skills").entries) == {
        "personal--a",
        "personal--b2",
    }
    assert sync(tmp_path, vault).plan.is_empty


def test_locally_edited_skill_is_kept_and_reported_then_force_replaces(tmp_path: Path) -> None:
    vault = FakeVault()
    skill = vault.add("personal", "deploy")
    sync(tmp_path, vault)
    edited = tmp_path / ".better-skills" / "skills" / "personal--deploy" / "SKILL.md"
    edited.write_bytes(b"my own edit\n")
    skill.files["SKILL.md"] = b"---\nname: deploy\n---\nv2\n"
    result = sync(tmp_path, vault).result
    assert result is not None
    assert [label for label, _ in result.kept] == ["Personal / deploy"]
    assert edited.read_bytes() == b"my own edit\n"
    # Removed on the server: still kept while edited.
    del vault.skills[skill.id]
    result = sync(tmp_path, vault).result
    assert result is not None and result.kept and edited.read_bytes() == b"my own edit\n"
    vault.skills[skill.id] = skill
    result = sync(tmp_path, vault, force=True).result
    assert result is not None and result.updated == ["Personal / deploy"]
    assert edited.read_bytes() == b"---\nname: deploy\n---\nv2\n"


def test_a_persons_own_folder_with_a_clashing_name_is_untouched(tmp_path: Path) -> None:
    vault = FakeVault()
    vault.add("personal", "deploy")
    own = tmp_path / ".claude" / "skills" / "personal--deploy"
    own.mkdir(parents=True)
    (own / "SKILL.md").write_text("mine\n")
    result = sync(tmp_path, vault).result
    assert result is not None
    assert any("not ours" in reason for _, reason in result.skipped)
    assert not own.is_symlink() and (own / "SKILL.md").read_text() == "mine\n"
    # Codex still got its link; removing the skill never touches the person's folder.
    assert (tmp_path / ".agents" / "skills" / "personal--deploy").is_symlink()
    vault.skills.clear()
    sync(tmp_path, vault)
    assert (own / "SKILL.md").read_text() == "mine\n"


def test_symlink_refusing_filesystem_falls_back_to_copies(tmp_path: Path) -> None:
    def refuse(target: str, path: Path) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    vault = FakeVault()
    skill = vault.add("personal", "deploy")
    result = sync(tmp_path, vault, symlink=refuse).result
    assert result is not None and result.ok
    copy = tmp_path / ".claude" / "skills" / "personal--deploy"
    assert copy.is_dir() and not copy.is_symlink()
    entry = read_lock(tmp_path / ".better-skills" / "skills").entries["personal--deploy"]
    assert entry.targets["claude-code"].mode == "copy"
    assert entry.targets["claude-code"].symlink_failed
    assert sync(tmp_path, vault, symlink=refuse).plan.is_empty
    skill.files["SKILL.md"] = b"v2\n"
    sync(tmp_path, vault, symlink=refuse)
    assert (copy / "SKILL.md").read_bytes() == b"v2\n"  # copies are refreshed on update
    (copy / "SKILL.md").write_bytes(b"edited in the copy\n")
    result = sync(tmp_path, vault, symlink=refuse).result
    assert result is not None and result.kept
    assert (copy / "SKILL.md").read_bytes() == b"edited in the copy\n"


def _read_only(folder: Path, on: bool) -> None:
    """chmod for a normal user; root ignores modes, so the immutable attribute then."""
    if os.geteuid() != 0:
        folder.chmod(0o555 if on else 0o755)
    elif subprocess.run(["chattr", "+i" if on else "-i", str(folder)], check=False).returncode:
        pytest.skip("cannot make a folder read-only here")


def test_read_only_agent_folder_gives_a_clear_failure(tmp_path: Path) -> None:
    vault = FakeVault()
    vault.add("personal", "deploy")
    folder = tmp_path / ".claude" / "skills"
    folder.mkdir(parents=True)
    _read_only(folder, True)
    try:
        result = sync(tmp_path, vault).result
    finally:
        _read_only(folder, False)
    assert result is not None and not result.ok
    ((label, message),) = result.failed
    assert label == "Personal / deploy"
    assert f"cannot write in {folder}" in message
    assert "ermission denied" in message or "not permitted" in message
    # The other agent got its link, and the lock records only what exists.
    entry = read_lock(tmp_path / ".better-skills" / "skills").entries["personal--deploy"]
    assert set(entry.targets) == {"codex"}
    result = sync(tmp_path, vault).result
    assert result is not None and result.ok and result.relinked


def test_removing_an_agent_removes_its_links(tmp_path: Path) -> None:
    vault = FakeVault()
    vault.add("personal", "deploy")
    sync(tmp_path, vault, agents=("claude-code", "cursor"))
    cursor = tmp_path / ".cursor" / "skills" / "personal--deploy"
    assert cursor.is_symlink()
    result = sync(tmp_path, vault, agents=("claude-code",)).result
    assert result is not None and result.ok
    assert not os.path.lexists(cursor)
    entry = read_lock(tmp_path / ".better-skills" / "skills").entries["personal--deploy"]
    assert set(entry.targets) == {"claude-code"}


def test_disabled_vault_removed_unless_include_disabled(tmp_path: Path) -> None:
    vault = FakeVault()
    skill = vault.add("team", "deploy")
    sync(tmp_path, vault)
    skill.enabled = False
    link = tmp_path / ".claude" / "skills" / "team--deploy"
    sync(tmp_path, vault, include_disabled=True)
    assert link.is_symlink()
    sync(tmp_path, vault)
    assert not os.path.lexists(link)


def test_share_installs_are_not_pruned(tmp_path: Path) -> None:
    vault = FakeVault()
    vault.add("personal", "a")
    sync(tmp_path, vault)
    store = tmp_path / ".better-skills" / "skills"
    lock = json.loads((store / "lock.json").read_text())
    lock["skills"]["shared-abcd1234-x"] = {
        "skillId": "s1",
        "slug": "x",
        "name": "x",
        "source": {
            "type": "better-skills-api",
            "vault": {"id": "shared-abcd1234", "slug": "shared-abcd1234"},
        },
        "targets": {},
    }
    (store / "lock.json").write_text(json.dumps(lock))
    (store / "shared-abcd1234-x").mkdir()
    outcome = sync(tmp_path, vault)
    assert not [a for a in outcome.plan.actions if a.key.startswith("shared-")]
    assert (store / "shared-abcd1234-x").is_dir()
    assert "shared-abcd1234-x" in read_lock(store).entries


def test_planted_symlink_in_the_store_is_never_followed(tmp_path: Path) -> None:
    vault = FakeVault()
    vault.add("personal", "deploy")
    sync(tmp_path, vault)
    store = tmp_path / ".better-skills" / "skills"
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    canonical = store / "personal--deploy"
    import shutil

    shutil.rmtree(canonical)
    canonical.symlink_to(elsewhere)
    result = sync(tmp_path, vault).result
    assert result is not None
    assert (elsewhere / "keep.txt").read_text() == "keep"
    assert list(elsewhere.iterdir()) == [elsewhere / "keep.txt"]


def test_unsafe_server_path_is_refused(tmp_path: Path) -> None:
    vault = FakeVault()
    vault.add("personal", "evil", {"SKILL.md": b"x", "../../escape.txt": b"boom"})
    result = sync(tmp_path, vault).result
    assert result is not None and not result.ok
    assert not (tmp_path / ".better-skills" / "escape.txt").exists()
    assert not list(tmp_path.rglob("escape.txt"))
    assert not (tmp_path / ".better-skills" / "skills" / "personal--evil").exists()


def test_server_going_away_mid_sync_leaves_nothing_half_done(tmp_path: Path) -> None:
    vault = FakeVault()
    vault.add("personal", "a")
    sync(tmp_path, vault)
    vault.add("personal", "b")
    vault.skills.pop(next(iter(vault.skills)))
    vault.fail_bundle = ServerUnreachable("http://x", "connection refused")
    result = sync(tmp_path, vault).result
    assert result is not None and not result.ok
    assert "Cannot reach the server" in result.failed[0][1]
    store = tmp_path / ".better-skills" / "skills"
    assert (store / "personal--a").is_dir()  # no pruning after a failed download
    assert not (store / "personal--b").exists()
    assert not (store / ".staging").exists() or not list((store / ".staging").iterdir())
    vault.fail_bundle = None
    result = sync(tmp_path, vault).result
    assert result is not None and result.ok and result.added == ["Personal / b"]


def test_project_sync_uses_project_folders_and_lock(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "repo"
    home.mkdir()
    project.mkdir()
    vault = FakeVault()
    vault.add("personal", "deploy")
    result = sync(home, vault, project=project).result
    assert result is not None and result.ok
    link = project / ".claude" / "skills" / "personal--deploy"
    assert os.readlink(link) == "../../.better-skills/skills/personal--deploy"
    assert (project / ".agents" / "skills" / "personal--deploy").is_symlink()
    assert (project / ".better-skills" / "skills" / "lock.json").exists()
    assert not (home / ".better-skills").exists()


def test_second_sync_waits_then_says_another_is_running(tmp_path: Path) -> None:
    import fcntl

    from better_skills.sync.apply import SyncBusy

    vault = FakeVault()
    vault.add("personal", "a")
    store = tmp_path / ".better-skills" / "skills"
    store.mkdir(parents=True)
    fd = os.open(store / ".sync.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(SyncBusy, match="another sync is running"):
            sync(tmp_path, vault, lock_wait=0.3)
    finally:
        os.close(fd)
    assert sync(tmp_path, vault).result is not None


def test_an_unusable_store_is_one_clear_error(tmp_path: Path) -> None:
    from better_skills.client.errors import ClientError

    (tmp_path / ".better-skills").write_text("a file where the store's parent should be")
    vault = FakeVault()
    vault.add("personal", "a")
    with pytest.raises(ClientError, match="cannot use the skills store"):
        sync(tmp_path, vault)


def _kept_after(tmp_path: Path, vault: FakeVault) -> list[str]:
    result = sync(tmp_path, vault).result
    assert result is not None
    return [label for label, _ in result.kept]


@pytest.mark.parametrize(
    "edit",
    [
        "same size, mtime set back",
        "file added in a sub-folder",
        "file added in a new sub-folder",
        "file removed",
    ],
)
def test_the_stat_fingerprint_misses_no_local_edit(tmp_path: Path, edit: str) -> None:
    """A no-op sync trusts the lock's hashes while one lstat per recorded path matches (no
    folder is listed): every kind of edit must still show up, and keep the skill."""
    vault = FakeVault()
    skill = vault.add("personal", "deploy", {"SKILL.md": b"v1\n", "refs/a.md": b"aaaa\n"})
    sync(tmp_path, vault)
    sync(tmp_path, vault)  # fingerprints recorded, then trusted
    folder = tmp_path / ".better-skills" / "skills" / "personal--deploy"
    target = folder / "refs" / "a.md"
    if edit == "same size, mtime set back":
        info = target.stat()
        target.write_bytes(b"bbbb\n")
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
        after = target.stat()
        assert (after.st_size, after.st_mtime_ns) == (info.st_size, info.st_mtime_ns)
    elif edit == "file added in a sub-folder":
        (folder / "refs" / "mine.md").write_bytes(b"mine\n")
    elif edit == "file added in a new sub-folder":
        (folder / "notes" / "deep").mkdir(parents=True)
        (folder / "notes" / "deep" / "mine.md").write_bytes(b"mine\n")
    else:
        target.unlink()
    skill.files["SKILL.md"] = b"v2\n"
    assert _kept_after(tmp_path, vault) == ["Personal / deploy"]
    assert (folder / "SKILL.md").read_bytes() == b"v1\n"


def test_a_file_added_to_an_empty_folder_of_ones_own_is_seen(tmp_path: Path) -> None:
    """An empty sub-folder is not above any recorded file, so stat'ing the recorded paths would
    not see into it: such a folder gets no fingerprint and is read each time."""
    vault = FakeVault()
    skill = vault.add("personal", "deploy", {"SKILL.md": b"v1\n"})
    sync(tmp_path, vault)
    folder = tmp_path / ".better-skills" / "skills" / "personal--deploy"
    (folder / "empty").mkdir()
    sync(tmp_path, vault)  # the empty folder changes nothing that is uploaded: not an edit
    sync(tmp_path, vault)
    (folder / "empty" / "mine.md").write_bytes(b"mine\n")
    skill.files["SKILL.md"] = b"v2\n"
    assert _kept_after(tmp_path, vault) == ["Personal / deploy"]
    assert (folder / "empty" / "mine.md").read_bytes() == b"mine\n"


def test_an_edited_skill_missing_from_the_lock_stays_kept(tmp_path: Path) -> None:
    """Found by the planner's property test: our folder (marker) in the store without a lock
    entry, edited here, gets its missing links; the lock entry then made for it must not vouch
    for the edited files with the marker's hashes (a later sync would take it for unedited,
    and replace the edit)."""
    vault = FakeVault()
    skill = vault.add("personal", "b", {"SKILL.md": b"v1\n"})
    assert sync(tmp_path, vault, agents=("claude-code",)).result.ok  # type: ignore[union-attr]
    store = tmp_path / ".better-skills" / "skills"
    (store / "lock.json").unlink()
    (store / "personal--b" / "SKILL.md").write_bytes(b"edited by a person\n")
    skill.files = {"SKILL.md": b"v2\n"}

    first = sync(tmp_path, vault, agents=("claude-code", "codex"))
    assert first.result is not None and first.result.kept and not first.result.updated
    for _ in range(2):
        again = sync(tmp_path, vault, agents=("claude-code", "codex"))
        assert again.result is not None and not again.result.updated, again.result
        assert [a.kind for a in again.plan.actions] == ["keep"]
    assert (store / "personal--b" / "SKILL.md").read_bytes() == b"edited by a person\n"
