"""Property tests of the planner (hypothesis).

1. Sync then plan again: nothing left to change, whatever the server did and whatever a person
   did to the folders in between (edits, deleted links, own folders, agents added or removed).
2. A plan never removes or replaces what the lock does not record as ours.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from better_skills.sync.agents import FolderGroup
from better_skills.sync.model import (
    DiskState,
    LinkState,
    Lock,
    LockEntry,
    ManifestItem,
    SkillOnDisk,
    Target,
)
from better_skills.sync.plan import make_plan
from tests.sync.fakes import FakeVault, sync

VAULTS = ("personal", "team")
SLUGS = ("a", "b", "c", "d")
AGENT_SETS = (("claude-code",), ("claude-code", "codex"), ("cursor", "codex", "amp"), ("opencode",))

server_state = st.dictionaries(
    st.tuples(st.sampled_from(VAULTS), st.sampled_from(SLUGS)),
    st.sampled_from([b"v1", b"v2", b"v3"]),
    max_size=5,
)
disturbance = st.sampled_from(["none", "edit", "unlink", "own-folder", "delete-store", "drop-lock"])


def disturb(home: Path, kind: str, key: str) -> None:
    store = home / ".better-skills" / "skills"
    link = home / ".claude" / "skills" / key
    if kind == "edit" and (store / key / "SKILL.md").exists():
        (store / key / "SKILL.md").write_bytes(b"edited by a person")
    elif kind == "unlink" and os.path.islink(link):
        os.unlink(link)
    elif kind == "own-folder" and not os.path.lexists(link):
        link.mkdir(parents=True)
        (link / "SKILL.md").write_text("mine")
    elif kind == "delete-store" and (store / key).is_dir():
        shutil.rmtree(store / key)
    elif kind == "drop-lock" and (store / "lock.json").exists():
        (store / "lock.json").unlink()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(server_state, st.sampled_from(AGENT_SETS), disturbance, st.sampled_from(SLUGS)),
        min_size=1,
        max_size=4,
    ),
    force=st.booleans(),
)
def test_sync_then_plan_again_is_empty(steps: list, force: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        vault = FakeVault()
        ids: dict[tuple[str, str], str] = {}
        own_before: dict[Path, bytes] = {}
        for state, agents, kind, slug in steps:
            for key in [k for k in ids if k not in state]:
                vault.skills.pop(ids.pop(key))
            for (v, s), content in state.items():
                if (v, s) not in ids:
                    ids[(v, s)] = vault.add(v, s).id
                vault.skills[ids[(v, s)]].files = {"SKILL.md": content}
            disturb(home, kind, f"personal--{slug}")
            own_before = (
                {
                    p: (p / "SKILL.md").read_bytes()
                    for p in (home / ".claude" / "skills").glob("*")
                    if p.is_dir()
                    and not p.is_symlink()
                    and not (p / ".better-skills-install.json").exists()
                }
                if (home / ".claude" / "skills").exists()
                else {}
            )
            outcome = sync(home, vault, agents=agents, force=force)
            assert outcome.result is not None and outcome.result.ok, outcome.result
            again = sync(home, vault, agents=agents, force=force, dry_run=True)
            assert again.plan.is_empty, [a.to_json() for a in again.plan.changes]
            # A person's folders are exactly as they were.
            for path, content in own_before.items():
                assert (path / "SKILL.md").read_bytes() == content


keys = st.sampled_from(["personal--a", "personal--b", "team--a", "shared-1-x"])
link_kinds = st.sampled_from(["absent", "ours", "copy", "other-link", "foreign"])


@st.composite
def planner_inputs(draw: st.DrawFn) -> tuple:
    root = Path("/h/.better-skills/skills")
    dirs = [Path("/h/.claude/skills"), Path("/h/.agents/skills"), Path("/h/.cursor/skills")]
    groups = [
        FolderGroup(d, (f"agent{i}",))
        for i, d in enumerate(draw(st.lists(st.sampled_from(dirs), unique=True)))
    ]
    entries = {}
    for key in draw(st.lists(keys, unique=True)):
        targets = {
            f"agent{i}": Target(str(d / key)) for i, d in enumerate(dirs) if draw(st.booleans())
        }
        entries[key] = LockEntry(
            key=key,
            skill_id=draw(st.sampled_from(["1", "2"])),
            targets=targets,
            files=draw(st.sampled_from([None, {"SKILL.md": "h1"}])),
            content_hash=draw(st.sampled_from([None, "c1", "c2"])),
        )
    skills = {}
    for key in [*entries, *draw(st.lists(keys, unique=True))]:
        kind = draw(st.sampled_from(["absent", "dir", "other"]))
        marker = draw(st.sampled_from([None, {"skillId": "1"}]))
        files = draw(st.sampled_from([{"SKILL.md": "h1"}, {"SKILL.md": "h2"}]))
        skills[key] = SkillOnDisk(
            kind, marker if kind == "dir" else None, files if kind == "dir" else None
        )
    links = {
        str(d / k): LinkState(draw(link_kinds), {"SKILL.md": "h1"})
        for d in dirs
        for k in ["personal--a", "personal--b", "team--a", "shared-1-x"]
    }
    manifest = [
        ManifestItem(
            draw(st.sampled_from(["1", "2"])),
            {"slug": v, "name": v},
            s,
            s,
            "",
            draw(st.sampled_from(["c1", "c2"])),
            "",
        )
        for v, s in draw(
            st.lists(
                st.sampled_from([("personal", "a"), ("personal", "b"), ("team", "a")]), unique=True
            )
        )
    ]
    return manifest, Lock(entries), DiskState(skills, links), groups, root, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(planner_inputs())
def test_a_plan_never_removes_what_the_lock_does_not_own(inputs: tuple) -> None:
    manifest, lock, disk, groups, root, force = inputs
    plan = make_plan(manifest, lock, disk, groups, store=root, force=force)
    for action in plan.actions:
        entry = lock.entries.get(action.key)
        if action.kind == "remove":
            assert entry is not None and not entry.is_share
        recorded = {Path(t.path) for t in entry.targets.values()} if entry else set()
        for path in action.unlinks:
            assert path in recorded and disk.link(path).kind in ("ours", "copy")
        for path in action.links:
            # A path we replace is empty, our own symlink, or something the lock records.
            assert disk.link(path).kind in ("absent", "ours") or path in recorded
        if action.kind in ("install", "update"):
            # The store folder we replace is ours: recorded in the lock or holding our marker.
            on_disk = disk.skill(action.key)
            assert on_disk.kind == "absent" or entry is not None or on_disk.marker is not None
            assert entry is None or not entry.is_share
