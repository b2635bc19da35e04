"""``better-skills sync`` as a subprocess against a real server process, with a temporary HOME.

A person signs up and logs the CLI in (the device flow, approved over HTTP); skills are created
and changed through ``/api/v1`` with the CLI's own token; each step runs the real executable.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_cli import Cli, logged_in
from tests.support.live_server import LiveServer

PERSONAL = "personal"


def skill_files(
    name: str, body: str = "# Body\n", extra: dict[str, str] | None = None
) -> list[dict[str, str]]:
    text = f"---\nname: {name}\ndescription: The {name} skill.\n---\n{body}"
    return [{"path": "SKILL.md", "content": text}] + [
        {"path": p, "content": c} for p, c in (extra or {}).items()
    ]


@dataclass
class Setup:
    cli: Cli
    home: Path
    api: httpx.Client

    def sync(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli.run("sync", *args, timeout=60)

    def sync_json(self, *args: str) -> dict[str, Any]:
        done = self.sync("--json", *args)
        assert done.returncode in (0, 1), done.stderr
        value: dict[str, Any] = json.loads(done.stdout)
        return value

    def create(self, name: str, **extra: Any) -> dict[str, Any]:
        response = self.api.post("/api/v1/skills", json={"files": skill_files(name, **extra)})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    @property
    def store(self) -> Path:
        return self.home / ".better-skills" / "skills"

    def agent(self, folder: str) -> Path:
        return self.home / folder / "skills"


@pytest.fixture
def setup(tmp_path: Path, shared_server: LiveServer) -> Iterator[Setup]:
    cli = Cli(tmp_path, shared_server.url)
    home = tmp_path / "home"
    home.mkdir()
    cli.env.update(
        {
            "HOME": str(home),
            "PATH": os.path.dirname(cli.env.get("PATH", "/usr/bin").split(":")[0])
            + "/bin:/usr/bin:/bin",
        }
    )
    cli.env.pop("CLAUDE_CONFIG_DIR", None)
    cli.env.pop("CODEX_HOME", None)
    token = logged_in(cli, shared_server)
    api = httpx.Client(
        base_url=shared_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert cli.run("config", "--agents", "claude-code,codex,cursor").returncode == 0
    yield Setup(cli, home, api)
    api.close()


def mtimes(root: Path) -> dict[str, int]:
    result = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            result[path] = os.lstat(path).st_mtime_ns
    return result


def test_sync_follows_the_server_and_keeps_local_edits(setup: Setup) -> None:
    deploy = setup.create("deploy", extra={"references/api.md": "# API\n"})
    review = setup.create("review")
    gone = setup.create("gone")

    # First sync: the store, one link per distinct folder, the lock.
    first = setup.sync()
    assert first.returncode == 0, first.stderr
    assert "0 failed" in first.stderr
    for folder in (".claude", ".agents", ".cursor"):
        link = setup.agent(folder) / "personal--deploy"
        assert link.is_symlink(), folder
        assert (link / "references" / "api.md").read_text() == "# API\n"
    assert (
        setup.store / "system-default--better-skills" / "SKILL.md"
    ).exists()  # the default skill
    lock = json.loads((setup.store / "lock.json").read_text())
    assert set(lock["skills"]) >= {"personal--deploy", "personal--review", "personal--gone"}

    # No-op: one request, no file touched.
    before = mtimes(setup.home)
    noop = setup.sync_json()
    assert noop["requests"] == 1
    assert [a for a in noop["plan"] if a["action"] not in ("keep", "skip")] == []
    assert mtimes(setup.home) == before

    # Server-side changes: a file-only change, a slug rename, a delete.
    response = setup.api.put(
        f"/api/v1/skills/{deploy['id']}",
        json={"files": skill_files("deploy", extra={"references/api.md": "# API v2\n"})},
    )
    assert response.status_code == 200, response.text
    response = setup.api.put(
        f"/api/v1/skills/{review['id']}", json={"files": skill_files("review"), "slug": "review-2"}
    )
    assert response.status_code == 200, response.text
    assert setup.api.delete(f"/api/v1/skills/{gone['id']}").status_code == 204
    changed = setup.sync_json()
    assert changed["summary"]["failed"] == []
    assert changed["requests"] == 2  # manifest + one bundle
    claude = setup.agent(".claude")
    assert (claude / "personal--deploy" / "references" / "api.md").read_text() == "# API v2\n"
    assert (claude / "personal--review-2" / "SKILL.md").exists()
    assert not os.path.lexists(claude / "personal--review")
    assert not os.path.lexists(claude / "personal--gone")
    assert not (setup.store / "personal--gone").exists()

    # A local edit is kept and reported, the server's change waits; --force replaces it.
    edited = setup.store / "personal--deploy" / "SKILL.md"
    edited.write_text("my local notes\n")
    response = setup.api.put(
        f"/api/v1/skills/{deploy['id']}", json={"files": skill_files("deploy", body="v3\n")}
    )
    assert response.status_code == 200
    kept = setup.sync()
    assert kept.returncode == 0
    assert "kept Ada Lovelace's Vault / deploy: edited here" in kept.stderr
    assert edited.read_text() == "my local notes\n"
    forced = setup.sync("--force")
    assert forced.returncode == 0, forced.stderr
    assert edited.read_text().endswith("v3\n")

    # A person's own folder with a clashing name is untouched.
    own = setup.agent(".cursor") / "personal--mine"
    own.mkdir()
    (own / "SKILL.md").write_text("my own\n")
    setup.create("mine")
    clash = setup.sync()
    assert clash.returncode == 0
    assert "is not ours: left alone" in clash.stderr
    assert (own / "SKILL.md").read_text() == "my own\n" and not own.is_symlink()
    assert (setup.agent(".claude") / "personal--mine").is_symlink()


def test_disabled_vault_removed_agent_project_and_copies(setup: Setup, tmp_path: Path) -> None:
    setup.create("deploy")
    assert setup.sync().returncode == 0
    default = setup.agent(".claude") / "system-default--better-skills"
    assert default.is_symlink()

    # Disabling the system vault removes its skill from the agents; --include-disabled keeps it.
    vaults = setup.api.get("/api/v1/vaults").json()["items"]
    system = next(v for v in vaults if v["slug"] == "system-default")
    response = setup.api.patch(f"/api/v1/vaults/{system['id']}/membership", json={"enabled": False})
    assert response.status_code == 200, response.text
    assert setup.sync("--include-disabled").returncode == 0
    assert default.is_symlink()
    assert setup.sync().returncode == 0
    assert not os.path.lexists(default)

    # Removing an agent from the config removes its links.
    assert setup.cli.run("config", "--agents", "claude-code,codex").returncode == 0
    assert setup.sync().returncode == 0
    assert not os.path.lexists(setup.agent(".cursor") / "personal--deploy")
    assert (setup.agent(".claude") / "personal--deploy").is_symlink()

    # --project: the agents' project folders, with a store and lock in the project.
    project = tmp_path / "repo"
    project.mkdir()
    done = setup.sync("--project", str(project))
    assert done.returncode == 0, done.stderr
    link = project / ".claude" / "skills" / "personal--deploy"
    assert os.readlink(link) == "../../.better-skills/skills/personal--deploy"
    assert (project / ".better-skills" / "skills" / "lock.json").exists()

    # A filesystem that refuses symlinks (simulated: copy mode): copies, recorded as copies.
    setup.cli.env["BETTER_SKILLS_LINK_MODE"] = "copy"
    other = tmp_path / "repo2"
    other.mkdir()
    assert setup.sync("--project", str(other)).returncode == 0
    copy = other / ".claude" / "skills" / "personal--deploy"
    assert copy.is_dir() and not copy.is_symlink()
    lock = json.loads((other / ".better-skills" / "skills" / "lock.json").read_text())
    assert lock["skills"]["personal--deploy"]["targets"]["claude-code"]["mode"] == "copy"


def test_sync_without_a_session_exits_4(tmp_path: Path, shared_server: LiveServer) -> None:
    cli = Cli(tmp_path, shared_server.url)
    cli.env["HOME"] = str(tmp_path)
    done = cli.run("sync")
    assert done.returncode == 4
    assert "better-skills login" in done.stderr
    assert "Traceback" not in done.stderr


def test_adopt_uploads_an_own_folder_then_sync_manages_it(setup: Setup) -> None:
    own = setup.agent(".claude") / "my-notes"
    own.mkdir(parents=True)
    (own / "SKILL.md").write_text(
        "---\nname: my-notes\ndescription: Notes of mine.\n---\n# Notes\n"
    )
    (own / "references").mkdir()
    (own / "references" / "a.md").write_text("# A\n")
    broken = setup.agent(".claude") / "broken"
    broken.mkdir()
    (broken / "SKILL.md").write_text("no frontmatter\n")

    done = setup.cli.run("adopt", str(own), str(broken), "--json", timeout=60)
    assert done.returncode == 1, done.stderr  # one of the two failed
    result = json.loads(done.stdout)
    (adopted,) = result["adopted"]
    assert adopted["skill"] == "personal/my-notes"
    assert [f["folder"] for f in result["failed"]] == [str(broken)]
    # On the server, byte for byte.
    skill = setup.api.get(f"/api/v1/skills/{adopted['id']}").json()
    assert sorted(f["path"] for f in skill["files"]) == ["SKILL.md", "references/a.md"]
    # The original is kept aside, not deleted; the broken folder is untouched.
    moved = Path(adopted["movedTo"])
    assert (moved / "references" / "a.md").read_text() == "# A\n"
    assert not own.exists() and (broken / "SKILL.md").exists()
    # Sync now manages it in every agent folder.
    link = setup.agent(".claude") / "personal--my-notes"
    assert link.is_symlink() and (link / "references" / "a.md").read_text() == "# A\n"
    assert (setup.agent(".cursor") / "personal--my-notes").is_symlink()
