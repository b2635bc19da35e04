"""The local-side commands in-process: sync (summary, --json, --dry-run, exit codes), config,
status, unmanaged, backup. The server side is the in-memory vault of ``fakes.py``; the real
server process is in ``tests/integration/test_cli_sync.py``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from better_skills.sync import remote as remote_module
from tests.cli.conftest import Harness
from tests.sync.fakes import FakeVault


@pytest.fixture
def vault(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> FakeVault:
    fake = FakeVault()
    home = harness.tmp_path / "home"
    home.mkdir()
    harness.environ.update(
        {"HOME": str(home), "XDG_CONFIG_HOME": str(harness.tmp_path / "config"), "PATH": ""}
    )
    monkeypatch.setattr(remote_module, "HttpRemote", lambda api: fake)
    return fake


def home(harness: Harness) -> Path:
    return Path(harness.environ["HOME"])


def test_sync_without_login_exits_4(
    vault: FakeVault, run_cli: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("sync") == 4
    assert "Run `better-skills login`" in capsys.readouterr().err


def test_first_sync_uses_detected_agents_then_summarises(
    harness: Harness, vault: FakeVault, run_cli: Callable[..., int]
) -> None:
    harness.save_session()
    (home(harness) / ".cursor").mkdir()
    vault.add("personal", "deploy")
    assert run_cli("sync") == 0
    assert "Saved agent configuration (detected): Cursor" in harness.err
    assert "1 added, 0 updated, 0 removed, 0 kept because modified, 0 failed" in harness.err
    assert (home(harness) / ".cursor" / "skills" / "personal--deploy").is_symlink()
    config = json.loads((harness.tmp_path / "config" / "better-skills" / "config.json").read_text())
    assert config == {"version": 1, "agents": ["cursor"]}


def test_sync_json_and_dry_run(
    harness: Harness, vault: FakeVault, run_cli: Callable[..., int]
) -> None:
    harness.save_session()
    vault.add("personal", "deploy")
    assert run_cli("sync", "--dry-run") == 0
    assert "install  personal--deploy  (Personal / deploy): new" in harness.out
    assert not (home(harness) / ".better-skills" / "skills" / "personal--deploy").exists()
    assert not (harness.tmp_path / "config" / "better-skills" / "config.json").exists()
    harness.stdout.truncate(0)
    harness.stdout.seek(0)
    assert run_cli("sync", "--json") == 0
    value = json.loads(harness.out)
    assert value["summary"]["added"] == ["Personal / deploy"]
    assert value["agents"] == ["opencode", "claude-code", "codex"]  # none detected: defaults
    assert [a["action"] for a in value["plan"]] == ["install"]


def test_sync_exits_1_when_something_failed(
    harness: Harness, vault: FakeVault, run_cli: Callable[..., int]
) -> None:
    harness.save_session()
    vault.add("personal", "evil", {"SKILL.md": b"x", "../x": b"y"})
    assert run_cli("sync") == 1
    assert "failed Personal / evil" in harness.err


def test_config_agents_show_and_unknown(
    harness: Harness,
    vault: FakeVault,
    run_cli: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli("config", "--agents", "codex,claude-code") == 0
    assert "configuration saved" in harness.err
    assert run_cli("config", "--show", "--json") == 0
    shown = json.loads(harness.out)
    assert shown["agents"] == ["claude-code", "codex"]
    assert len(shown["table"]) >= 79
    assert run_cli("config", "--agents", "nope") == 2
    assert "unknown agent: nope" in capsys.readouterr().err


def test_config_picker_on_a_terminal(
    harness: Harness, vault: FakeVault, run_cli: Callable[..., int]
) -> None:
    harness.interactive = True
    harness.stdin_text = "cursor\n\n"  # toggle cursor on, then accept
    assert run_cli("config", "--agents", "codex") == 0
    assert run_cli("config") == 0
    config = json.loads((harness.tmp_path / "config" / "better-skills" / "config.json").read_text())
    assert config["agents"] == ["codex", "cursor"]


def test_status_unmanaged_and_backup(
    harness: Harness, vault: FakeVault, run_cli: Callable[..., int]
) -> None:
    harness.save_session()
    vault.add("personal", "deploy")
    assert run_cli("config", "--agents", "claude-code") == 0
    assert run_cli("sync") == 0
    own = home(harness) / ".claude" / "skills" / "my-own"
    own.mkdir()
    (own / "SKILL.md").write_text("---\nname: x\nslug: mine\n---\n")
    (home(harness) / ".better-skills" / "skills" / "personal--deploy" / "SKILL.md").write_text(
        "edit"
    )
    harness.stdout.truncate(0)
    harness.stdout.seek(0)
    assert run_cli("status", "--json") == 0
    (row,) = json.loads(harness.out)["skills"]
    assert row["key"] == "personal--deploy" and row["state"] == ["modified"]
    harness.stdout.truncate(0)
    harness.stdout.seek(0)
    assert run_cli("get-unmanaged-skills") == 0
    assert "found 1 unmanaged skill(s)" in harness.err
    assert "  mine" in harness.out and "personal--deploy" not in harness.out
    out_dir = harness.tmp_path / "backup"
    assert run_cli("backup", "--out", str(out_dir)) == 0
    assert (out_dir / "raw" / "001-my-own" / "SKILL.md").exists()
    assert (out_dir / "work" / "001-my-own" / "SKILL.md").exists()
    assert "discovered=2, copied=1, skipped=1, failed=0" in harness.out
