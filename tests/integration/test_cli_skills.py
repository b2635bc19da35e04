"""The online skill commands (list, get, clone, create, update, delete, vaults, ...) as the
real ``better-skills`` executable against a real server process, signed in by device login."""

from __future__ import annotations

import base64
import filecmp
import json
import os
import pty
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_cli import Cli, logged_in
from tests.support.live_server import LiveServer

#: Bytes that are not UTF-8, with NUL, CR LF and a lone CR: they must survive every round trip.
BINARY = bytes(range(256)) + b"\r\n\r\x00\xff\xfe"


def skill_md(name: str, body: str = "# Body\n") -> str:
    return f"---\nname: {name}\ndescription: The {name} skill.\n---\n{body}"


@dataclass
class Setup:
    cli: Cli
    api: httpx.Client
    tmp: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli.run(*args, timeout=60)

    def json(self, *args: str, code: int = 0) -> Any:
        done = self.run(*args, "--json")
        assert done.returncode == code, (done.stdout, done.stderr)
        return json.loads(done.stdout)

    def create(self, name: str, files: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
        uploads = [{"path": "SKILL.md", "content": skill_md(name)}]
        uploads += [{"path": p, "content": c} for p, c in (files or {}).items()]
        response = self.api.post("/api/v1/skills", json={"files": uploads, **body})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    def on_terminal(self, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
        """The CLI with a terminal on stdin, typing ``answer`` (for confirmation prompts)."""
        from tests.support.live_cli import executable

        controller, terminal = pty.openpty()
        try:
            os.write(controller, answer.encode())
            return subprocess.run(
                [*executable(), *args],
                env=self.cli.env,
                cwd=self.cli.cwd,
                stdin=terminal,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            os.close(controller)
            os.close(terminal)

    def folder(self, name: str, files: dict[str, bytes]) -> Path:
        root = self.tmp / name
        for path, data in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
        return root


@pytest.fixture
def setup(tmp_path: Path, shared_server: LiveServer) -> Iterator[Setup]:
    cli = Cli(tmp_path, shared_server.url)
    token = logged_in(cli, shared_server)
    api = httpx.Client(
        base_url=shared_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    yield Setup(cli, api, tmp_path)
    api.close()


def same_tree(a: Path, b: Path) -> bool:
    """``diff -r``, hidden files (the clone marker) aside, byte for byte."""

    def files(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }

    return files(a) == files(b)


def test_vaults_list_get_and_identifiers(setup: Setup) -> None:
    deploy = setup.create("deploy", {"references/api.md": "# API\n\x1b[31mred\x1b[0m\n"})
    setup.create("review")

    # vaults, enable, disable
    vaults = setup.json("vaults")["items"]
    assert {v["slug"] for v in vaults} >= {"personal", "system-default"}
    assert set(vaults[0]) == {
        "id", "slug", "name", "type", "role", "enabled", "can_write", "can_admin", "skill_count"
    }  # fmt: skip
    table = setup.run("vaults")
    assert table.returncode == 0 and "personal" in table.stdout and "SYNCED" in table.stdout
    off = setup.json("disable", "personal")["vault"]
    assert off["slug"] == "personal" and off["enabled"] is False
    assert setup.api.get("/api/v1/vaults").json()["items"][0]["enabled"] in (True, False)
    assert setup.json("enable", "personal")["vault"]["enabled"] is True
    missing = setup.json("disable", "no-such-vault", code=3)
    assert missing["error"] == "not_found" and missing["exitCode"] == 3

    # list: table, JSON, query, vault, limit
    listed = setup.run("list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["NAME", "VAULT", "SLUG", "UPDATED"]
    assert "personal" in listed.stdout and "deploy" in listed.stdout
    items = setup.json("list", "--vault", "personal")["items"]
    assert [i["slug"] for i in items] == ["review", "deploy"]  # newest first
    assert set(items[0]) >= {"id", "vault", "slug", "name", "etag", "updated_at"}
    assert [i["slug"] for i in setup.json("list", "deplo")["items"]] == ["deploy"]
    page = setup.json("list", "--vault", "personal", "--limit", "1")
    assert len(page["items"]) == 1 and page["next_cursor"]
    every = setup.json("list", "--vault", "personal", "--limit", "1", "--all")
    assert len(every["items"]) == 2 and every["next_cursor"] is None
    assert setup.run("list", "--limit", "0").returncode == 2

    # get: by id, vault/slug and slug; --file; server text cleaned
    for name in (deploy["id"], "personal/deploy", "deploy"):
        got = setup.json("get", name)
        assert got["skill"]["id"] == deploy["id"]
        assert got["file"]["content"] == skill_md("deploy")
        assert [f["path"] for f in got["skill"]["files"]] == ["SKILL.md", "references/api.md"]
    shown = setup.run("get", "deploy")
    assert shown.returncode == 0 and "personal/deploy" in shown.stdout and "# Body" in shown.stdout
    raw = setup.run("get", "deploy", "--file", "references/api.md")
    assert raw.stdout == "# API\n\x1b[31mred\x1b[0m\n"  # a pipe gets the bytes as they are
    assert setup.json("get", "deploy", "--file", "nope.md", code=3)["error"] == "not_found"

    # not found, malformed, ambiguous
    gone = setup.json("get", "personal/nothing-here", code=3)
    assert gone["error"] == "not_found" and gone["message"]
    assert setup.run("get", "00000000-0000-4000-8000-000000000000").returncode == 3
    assert setup.run("get", "a/b/c").returncode == 2
    # The system vault has a skill with slug better-skills: a personal one makes it ambiguous.
    setup.create("better-skills")
    ambiguous = setup.run("get", "better-skills")
    assert ambiguous.returncode == 5, ambiguous.stderr
    assert "personal/better-skills" in ambiguous.stderr
    assert "system-default/better-skills" in ambiguous.stderr
    error = setup.json("get", "better-skills", code=5)
    assert error["error"] == "conflict"
    assert sorted(error["candidates"]) == [
        "personal/better-skills",
        "system-default/better-skills",
    ]
    assert setup.json("get", "personal/better-skills")["skill"]["vault"]["slug"] == "personal"


def test_create_clone_update_round_trip_keeps_bytes(setup: Setup) -> None:
    source = setup.folder(
        "tool",
        {
            "SKILL.md": skill_md("tool", "# Tool\nSee [[resource:new:references/guide.md]].\n")
            .replace("\n", "\r\n")
            .encode(),
            "references/guide.md": b"# Guide\n",
            "assets/blob.bin": BINARY,
        },
    )
    created = setup.json("create", "--from", str(source))
    assert created["created"] is True and created["skill"]["slug"] == "tool"
    skill_id = created["skill"]["id"]
    assert (source / ".better-skills-clone.json").is_file()

    # clone: byte for byte, marker, refusal of a non-empty folder, --force
    clone = setup.json("clone", "personal/tool", "--to", str(setup.tmp / "c1"))
    assert clone["skill"]["id"] == skill_id and clone["folder"] == str(setup.tmp / "c1")
    c1 = setup.tmp / "c1"
    assert (c1 / "assets/blob.bin").read_bytes() == BINARY
    assert (c1 / "SKILL.md").read_bytes().count(b"\r\n") >= 4
    # the draft mention was resolved by the server in the same request
    assert b"[[resource:new:" not in (c1 / "SKILL.md").read_bytes()
    assert b"[[resource:" in (c1 / "SKILL.md").read_bytes()
    marker = json.loads((c1 / ".better-skills-clone.json").read_text())
    assert marker["skill_id"] == skill_id and marker["vault"] == "personal" and marker["etag"]
    again = setup.json("clone", skill_id, "--to", str(c1), code=1)
    assert again["error"] == "folder_not_empty"
    assert setup.run("clone", skill_id, "--to", str(c1), "--force").returncode == 0
    default = setup.run("clone", "tool")
    assert default.returncode == 0 and (setup.cli.cwd / "tool" / "SKILL.md").is_file()

    # update from the clone, then clone again: the same bytes
    (c1 / "assets/blob.bin").write_bytes(BINARY[::-1])
    (c1 / "references/new.md").write_text("new\n")
    updated = setup.json("update", "personal/tool", "--from", str(c1))
    assert updated["updated"] is True and updated["skill"]["etag"] != marker["etag"]
    assert setup.run("clone", skill_id, "--to", str(setup.tmp / "c2")).returncode == 0
    assert same_tree(c1, setup.tmp / "c2")
    assert filecmp.cmp(c1 / "assets/blob.bin", setup.tmp / "c2/assets/blob.bin", shallow=False)

    # stale: the skill changes on the server after c2 was cloned; c2's update is refused
    (c1 / "SKILL.md").write_text(skill_md("tool", "# Changed elsewhere\n"))
    assert setup.run("update", skill_id, "--from", str(c1)).returncode == 0
    (setup.tmp / "c2/SKILL.md").write_text(skill_md("tool", "# Mine\n"))
    stale = setup.run("update", skill_id, "--from", str(setup.tmp / "c2"))
    assert stale.returncode == 5, stale.stderr
    assert "changed on the server" in stale.stderr
    stale_json = setup.json("update", skill_id, "--from", str(setup.tmp / "c2"), code=5)
    assert stale_json["error"] == "conflict" and stale_json["reason"] == "stale"
    server_copy = setup.api.get(f"/api/v1/skills/{skill_id}/files/SKILL.md").text
    assert "Changed elsewhere" in server_copy  # nothing was replaced
    forced = setup.run("update", skill_id, "--from", str(setup.tmp / "c2"), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "# Mine" in setup.api.get(f"/api/v1/skills/{skill_id}/files/SKILL.md").text

    # binary content in --json; a new slug
    blob = setup.json("get", skill_id, "--file", "assets/blob.bin")["file"]
    assert base64.b64decode(blob["content_base64"]) == BINARY[::-1]
    renamed = setup.json("update", skill_id, "--from", str(setup.tmp / "c2"), "--slug", "tool-2")
    assert renamed["skill"]["slug"] == "tool-2"
    assert setup.json("get", "personal/tool-2")["skill"]["id"] == skill_id

    # moving into the read-only system vault: refused with the server's reason, exit 1
    c2 = str(setup.tmp / "c2")  # fresh again: its forced update rewrote its marker
    move = setup.json("update", skill_id, "--from", c2, "--vault", "system-default", code=1)
    assert move["error"] == "forbidden" and move["message"]

    # clone into a new folder leaves no staging folder behind
    assert [p.name for p in setup.tmp.iterdir() if ".clone-" in p.name] == []


def test_create_refusals_and_delete(setup: Setup) -> None:
    bad = setup.folder("bad", {"SKILL.md": b"no frontmatter\n"})
    refused = setup.json("create", "--from", str(bad), code=1)
    assert refused["error"] == "invalid_skill" and "nothing was sent" in refused["message"]
    assert refused["problems"][0]["code"] == "invalid_frontmatter"
    assert setup.json("list", "--vault", "personal")["items"] == []

    good = setup.folder("good", {"SKILL.md": skill_md("good").encode()})
    assert setup.run("create", "--from", str(good)).returncode == 0
    twice = setup.json("create", "--from", str(good), code=5)  # the slug is taken
    assert twice["error"] == "conflict"
    other = setup.json("create", "--from", str(good), "--slug", "good-two")
    assert other["skill"]["slug"] == "good-two"

    no_tty = setup.run("delete", "good")
    assert no_tty.returncode == 2 and "--yes" in no_tty.stderr
    declined = setup.on_terminal("n\n", "delete", "good-two")
    assert declined.returncode == 1 and "Delete personal/good-two?" in declined.stderr
    assert setup.run("get", "personal/good-two").returncode == 0
    confirmed = setup.on_terminal("y\n", "delete", "good-two")
    assert confirmed.returncode == 0, confirmed.stderr
    assert setup.run("get", "personal/good-two").returncode == 3
    deleted = setup.json("delete", "personal/good", "--yes")
    assert deleted["deleted"] is True and deleted["skill"]["slug"] == "good"
    assert setup.run("get", "personal/good").returncode == 3
    assert setup.run("delete", "personal/good", "--yes").returncode == 3


def test_signed_out_and_unreachable(setup: Setup) -> None:
    setup.cli.session_path.unlink()
    out = setup.json("list", code=4)
    assert out["error"] == "not_authenticated"
    setup.cli.env["BETTER_SKILLS_TOKEN"] = "bsk_not_a_real_token"
    down = setup.json("list", "--server", "http://127.0.0.1:9", code=1)
    assert down["error"] == "server_unreachable"
    refused = setup.json("vaults", code=4)  # the server does not accept the token
    assert refused["error"] == "not_authenticated"


def test_search_references_and_diff(setup: Setup) -> None:
    target = setup.create("kubernetes-deploy", {"notes.md": "rolling restarts of pods\n"})
    setup.create("caller", {"use.md": f"Use [[skill:{target['id']}]] first.\n"})

    hits = setup.json("search", "kubernetes")
    assert hits["items"][0]["slug"] == "kubernetes-deploy"
    assert set(hits["items"][0]) >= {"id", "vault", "slug", "match", "score", "snippet"}
    assert isinstance(hits["total"], int) and hits["total_exact"] is True
    shown = setup.run("search", "rolling")
    assert shown.returncode == 0 and "personal/kubernetes-deploy" in shown.stdout
    assert setup.json("search", "zzzz-nothing")["items"] == []
    assert setup.run("search", "x", "--limit", "101").returncode == 2

    refs = setup.json("references", "kubernetes-deploy")
    assert refs["skill"]["id"] == target["id"]
    assert [(r["skill"]["slug"], r["via_path"]) for r in refs["items"]] == [("caller", "use.md")]
    text = setup.run("references", "personal/kubernetes-deploy")
    assert text.returncode == 0 and "personal/caller" in text.stdout
    assert setup.json("references", "caller")["items"] == []
    assert setup.run("references", "nobody").returncode == 3

    folder = setup.tmp / "k"
    assert setup.run("clone", "kubernetes-deploy", "--to", str(folder)).returncode == 0
    same = setup.json("diff", "kubernetes-deploy", "--from", str(folder))
    assert (same["added"], same["removed"], same["modified"]) == ([], [], [])
    assert same["unchanged"] == 2
    (folder / "notes.md").write_text("rolling restarts of deployments\n")
    (folder / "notes.md").rename(folder / "notes2.md")
    (folder / "SKILL.md").write_text(skill_md("kubernetes-deploy", "# New body\n"))
    (folder / "logo.bin").write_bytes(BINARY)
    changed = setup.json("diff", target["id"], "--from", str(folder))
    assert changed["added"] == ["logo.bin", "notes2.md"]
    assert changed["removed"] == ["notes.md"]
    [modified] = changed["modified"]
    assert modified["path"] == "SKILL.md" and modified["binary"] is False
    assert "-# Body\n+# New body\n" in modified["diff"]
    human = setup.run("diff", "kubernetes-deploy", "--from", str(folder))
    assert human.returncode == 0
    assert "removed   notes.md" in human.stdout and "+# New body" in human.stdout
    assert setup.run("diff", "kubernetes-deploy", "--from", str(setup.tmp / "none")).returncode == 1
