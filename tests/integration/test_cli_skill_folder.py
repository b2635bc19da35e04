"""The offline skill-folder commands through the real ``better-skills`` executable:
``init`` -> ``validate`` -> ``rewrite-links`` -> ``validate --strict``, exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.live_cli import Cli

NO_SERVER = "http://127.0.0.1:9"  # these commands never connect; nothing listens there


def test_init_validate_rewrite_round_trip(tmp_path: Path) -> None:
    cli = Cli(tmp_path, NO_SERVER)
    result = cli.run("init", "deploy-app")
    assert result.returncode == 0, result.stderr
    folder = cli.cwd / "deploy-app"

    result = cli.run("validate", "deploy-app", "--strict", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == {
        "ok": True,
        "errors": [],
        "warnings": [],
        "files": 1,
        "mentions": 0,
    }

    # A reference and a binary asset nothing mentions yet: warnings, so --strict fails.
    (folder / "references").mkdir()
    (folder / "references" / "guide.md").write_text("# Guide\n\n![logo](../assets/logo.png)\n")
    (folder / "assets").mkdir()
    (folder / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff")
    with (folder / "SKILL.md").open("a") as handle:
        handle.write("\nFollow [the guide](references/guide.md); the logo is assets/logo.png.\n")
    assert cli.run("validate", "deploy-app").returncode == 0
    result = cli.run("validate", "deploy-app", "--strict")
    assert result.returncode == 1
    assert "references/guide.md: No mention reaches this file" in result.stdout
    assert "Traceback" not in result.stderr

    before = (folder / "SKILL.md").read_bytes()
    result = cli.run("rewrite-links", "deploy-app", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("dry run complete\n2 link(s) would be rewritten in 1 file(s)")
    assert (folder / "SKILL.md").read_bytes() == before

    result = cli.run("rewrite-links", "deploy-app", "--json")
    assert json.loads(result.stdout)["replacements"] == 2
    text = (folder / "SKILL.md").read_text()
    assert "Follow [[resource:new:references/guide.md]]; the logo is" in text
    assert "[[resource:new:assets/logo.png]]." in text

    result = cli.run("validate", "deploy-app", "--strict", "--json")
    assert result.returncode == 0, result.stdout
    data = json.loads(result.stdout)
    assert (data["files"], data["mentions"]) == (3, 2)


def test_invalid_folder_exit_codes_and_messages(tmp_path: Path) -> None:
    cli = Cli(tmp_path, NO_SERVER)
    bad = cli.cwd / "bad"
    bad.mkdir()
    (bad / "SKILL.md").write_text("---\nname: bad\ndescription: [\n---\n")
    (bad / ".env").write_text("hidden files are never uploaded, so not checked")
    result = cli.run("validate", "bad")
    assert result.returncode == 1
    assert "SKILL.md:4: The frontmatter is not valid YAML" in result.stdout
    assert "bad is not valid" in result.stderr
    assert "Traceback" not in result.stderr

    assert cli.run("validate").returncode == 2
    assert cli.run("validate", "bad", "--nope").returncode == 2
    result = cli.run("init", "bad")
    assert result.returncode == 1
    assert "already exists and is not empty" in result.stderr
    assert cli.run("init", "Bad Name").returncode == 2
    result = cli.run("rewrite-links", "missing", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"] == "not_found"


def test_the_original_clone_marker_is_understood(tmp_path: Path) -> None:
    cli = Cli(tmp_path, NO_SERVER)
    folder = cli.cwd / "cloned"
    (folder / "references").mkdir(parents=True)
    rid = "6f1c2d3e-0000-4000-8000-0000000000aa"
    (folder / "SKILL.md").write_text(
        f"---\nname: cloned\ndescription: d\n---\nSee [[resource:{rid}]].\n"
    )
    (folder / "references" / "a.md").write_text("a")
    (folder / "references" / "b.md").write_text("b")
    (folder / ".resource-ids.json").write_text(json.dumps({rid: "references/a.md"}))
    data = json.loads(cli.run("validate", "cloned", "--json").stdout)
    assert data["ok"] is True
    assert [w["path"] for w in data["warnings"]] == ["references/b.md"]
    assert data["files"] == 3  # the hidden marker is not a file of the skill
