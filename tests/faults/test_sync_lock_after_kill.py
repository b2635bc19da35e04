"""A sync killed after renaming skills into place but before writing its lock: the next sync
must leave the same lock as a sync that was never interrupted, including what the manifest
says about each skill (``remoteUpdatedAt``, name, description), not only its files.

Found by the CLI kill loop (test_cli_kill_loop.py): the lock kept the old ``remoteUpdatedAt``
of a skill whose new files the killed sync had already put in place.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from better_skills.sync import apply
from tests.sync.fakes import FakeVault, scripted_vault, sync
from tests.sync.test_kill_during_apply import lock_without_times, tree


class StampedVault(FakeVault):
    """The scripted vault, with each stage's own ``updated_at`` on every skill."""

    stamp = "2026-01-01T00:00:00.000Z"

    def _manifest_json(self, include_disabled: bool) -> dict[str, object]:
        data = super()._manifest_json(include_disabled)
        for item in data["items"]:  # type: ignore[attr-defined]
            item["updated_at"] = self.stamp
        return data


def stage(n: int) -> FakeVault:
    vault = scripted_vault(n)
    vault.__class__ = StampedVault
    vault.stamp = f"2026-0{n + 1}-01T00:00:00.000Z"  # type: ignore[attr-defined]
    return vault


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler sees it."""


def test_the_sync_after_a_kill_before_the_lock_write_completes_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    for home in (killed, clean):
        home.mkdir()
        assert sync(home, stage(0)).result.ok  # type: ignore[union-attr]

    def die(*_: object, **__: object) -> None:
        raise Killed

    monkeypatch.setattr(apply, "write_lock", die)
    with pytest.raises(Killed):
        sync(killed, stage(1))
    monkeypatch.undo()

    result = sync(killed, stage(1)).result
    assert result is not None and result.ok and not result.kept
    assert sync(clean, stage(1)).result.ok  # type: ignore[union-attr]
    assert tree(killed) == tree(clean)
    a, b = lock_without_times(killed), lock_without_times(clean)
    assert a["skills"]["personal--s0"]["source"]["remoteUpdatedAt"] == stage(1).stamp  # type: ignore[attr-defined,index]
    assert a == b


def test_temporary_files_of_a_killed_state_write_are_removed_and_nothing_else(
    tmp_path: Path,
) -> None:
    """A kill inside the atomic write of ``lock.json`` or the manifest cache leaves its
    temporary file; the next sync removes it (found by the CLI kill loop: they piled up),
    and leaves alone files that only look similar."""
    assert sync(tmp_path, stage(0)).result.ok  # type: ignore[union-attr]
    store = tmp_path / ".better-skills" / "skills"
    leftovers = [
        tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=store)[1]
        for name in ("lock.json", ".manifest-cache.json")
    ]
    others = [store / ".notes.tmp", store / ".lock.json.tmp", store / "lock.json.abcdefgh.tmp"]
    for other in others:
        other.write_text("not ours\n")

    assert sync(tmp_path, stage(0)).result.ok  # type: ignore[union-attr]
    assert not any(Path(p).exists() for p in leftovers)
    assert all(other.read_text() == "not ours\n" for other in others)
