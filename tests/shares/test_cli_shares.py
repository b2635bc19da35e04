"""The share commands as subprocesses against a real server process, with a temporary HOME:
``share``, ``shares``, ``install-share`` (then ``sync`` leaves it alone), ``import-share``,
``unshare``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from better_skills.protocol.shares import share_install_key
from tests.support.live_cli import Cli, logged_in
from tests.support.live_server import LiveServer


def skill_files(name: str, body: str = "# Body\n") -> list[dict[str, str]]:
    text = f"---\nname: {name}\ndescription: The {name} skill.\n---\n{body}"
    return [{"path": "SKILL.md", "content": text}]


@pytest.fixture
def cli(tmp_path: Path, shared_server: LiveServer) -> Iterator[tuple[Cli, httpx.Client, Path]]:
    cli = Cli(tmp_path, shared_server.url)
    home = tmp_path / "home"
    home.mkdir()
    cli.env["HOME"] = str(home)
    cli.env.pop("CLAUDE_CONFIG_DIR", None)
    cli.env.pop("CODEX_HOME", None)
    token = logged_in(cli, shared_server)
    api = httpx.Client(
        base_url=shared_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert cli.run("config", "--agents", "claude-code,codex").returncode == 0
    yield cli, api, home
    api.close()


def create(api: httpx.Client, name: str, body: str = "# Body\n") -> dict[str, Any]:
    response = api.post("/api/v1/skills", json={"files": skill_files(name, body)})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def test_share_install_sync_import_unshare(cli: tuple[Cli, httpx.Client, Path]) -> None:
    run, api, home = cli
    helper = create(api, "helper")
    main = create(api, "main", f"Use [[skill:{helper['id']}]].\n")

    shared = run.run("share", "personal/main")
    assert shared.returncode == 0, shared.stderr
    url = shared.stdout.strip().splitlines()[-1]
    share_id = url.rsplit("/", 1)[1]
    assert url == f"{run.env['SERVER_URL']}/share/{share_id}"
    listed = json.loads(run.run("shares", "--json").stdout)
    assert [s["id"] for s in listed["items"]] == [share_id]
    assert listed["items"][0]["skill_id"] == main["id"]

    installed = run.run("install-share", url, timeout=60)
    assert installed.returncode == 0, installed.stderr
    assert "installed 2 shared skill(s)" in installed.stderr + installed.stdout
    store = home / ".better-skills" / "skills"
    main_key, helper_key = (share_install_key(share_id, s) for s in ("main", "helper"))
    text = (store / main_key / "SKILL.md").read_text()
    assert f"[helper](../{helper_key}/SKILL.md)" in text
    claude = home / ".claude" / "skills" / main_key
    assert claude.is_symlink() and (claude / "SKILL.md").read_text() == text
    lock = json.loads((store / "lock.json").read_text())
    entry = lock["skills"][main_key]
    assert entry["origin"] == "share" and entry["source"]["shareId"] == share_id
    assert set(entry["targets"]) == {"claude-code", "codex"}

    # sync installs the vault's own skills and leaves the shared ones alone, even once the
    # source is gone from the vault.
    assert api.delete(f"/api/v1/skills/{helper['id']}").status_code == 204
    for _ in range(2):
        synced = run.run("sync", timeout=60)
        assert synced.returncode == 0, synced.stderr
        assert (store / main_key / "SKILL.md").read_text() == text
        assert (store / helper_key / "SKILL.md").is_file()
        assert claude.is_symlink()
        lock = json.loads((store / "lock.json").read_text())
        assert {main_key, helper_key} <= set(lock["skills"])
        assert lock["skills"][main_key]["targets"] == entry["targets"]
    assert (store / "personal--main").is_dir()

    # A bare id works as well; importing copies into the personal vault (taken slugs: -copy).
    imported = run.run("import-share", share_id)
    assert imported.returncode == 0, imported.stderr
    slugs = {s["slug"] for s in api.get("/api/v1/skills?vault=personal").json()["items"]}
    assert {"main", "main-copy", "helper"} <= slugs

    assert run.run("unshare", url).returncode == 0
    assert json.loads(run.run("shares", "--json").stdout) == {"items": []}
    gone = run.run("install-share", share_id)
    assert gone.returncode == 3, (gone.returncode, gone.stderr)
    assert run.run("unshare", share_id).returncode == 3
    assert run.run("import-share", share_id).returncode == 3


def test_bad_share_arguments_are_usage_errors(tmp_path: Path, shared_server: LiveServer) -> None:
    run, home = Cli(tmp_path, shared_server.url), tmp_path / "home"
    home.mkdir()
    run.env["HOME"] = str(home)
    for bad in ("nope", "https://example.com/skills/x", "../../etc", "ftp://h/share/x"):
        for command in ("install-share", "import-share", "unshare"):
            done = run.run(command, bad)
            assert done.returncode == 2, (command, bad, done.stderr)
            assert "Traceback" not in done.stderr
    assert os.listdir(home) == []
