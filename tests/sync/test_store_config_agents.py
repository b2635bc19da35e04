"""The files we share with the original CLI (lock, marker, config) and the agent table."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from better_skills.sync.agents import load_table
from better_skills.sync.config import Config, config_path, load_config, save_config
from better_skills.sync.files import dump_json_rows
from better_skills.sync.store import parse_lock, read_lock, scan_fingerprint, stat_fingerprint
from tests.sync.fakes import FakeVault, sync

#: Every agent id of agents.md (both sources); the original's `kimi-cli` is an alias.
AGENTS_MD_IDS = [
    "aider-desk",
    "amp",
    "replit",
    "universal",
    "antigravity",
    "antigravity-cli",
    "astrbot",
    "autohand-code",
    "augment",
    "bob",
    "claude-code",
    "openclaw",
    "cline",
    "codex",
    "dexto",
    "fx",
    "kimi-code-cli",
    "loaf",
    "pi",
    "sarvam-code",
    "warp",
    "zed",
    "codearts-agent",
    "codebuddy",
    "codemaker",
    "codestudio",
    "command-code",
    "continue",
    "cortex",
    "crush",
    "cursor",
    "deepagents",
    "devin",
    "droid",
    "eve",
    "firebender",
    "forgecode",
    "gemini-cli",
    "github-copilot",
    "goose",
    "grok",
    "hermes-agent",
    "inference-sh",
    "jazz",
    "junie",
    "iflow-cli",
    "kilo",
    "kimchi",
    "kiro-cli",
    "kode",
    "lingma",
    "mcpjam",
    "minimax-code",
    "mistral-vibe",
    "moxby",
    "mux",
    "opencode",
    "openhands",
    "ona",
    "posit-assistant",
    "qoder",
    "qoder-cn",
    "qwen-code",
    "reasonix",
    "rovodev",
    "roo",
    "tabnine-cli",
    "terramind",
    "tinycloud",
    "trae",
    "trae-cn",
    "windsurf",
    "zcode",
    "zencoder",
    "zenflow",
    "neovate",
    "pochi",
    "promptscript",
    "adal",
]
ORIGINAL_IDS = [
    "opencode",
    "claude-code",
    "codex",
    "cursor",
    "github-copilot",
    "gemini-cli",
    "amp",
    "antigravity",
    "augment",
    "openclaw",
    "cline",
    "codebuddy",
    "command-code",
    "continue",
    "cortex",
    "crush",
    "droid",
    "goose",
    "junie",
    "iflow-cli",
    "kilo",
    "kimi-cli",
    "kiro-cli",
    "kode",
    "mcpjam",
    "mistral-vibe",
    "mux",
    "openhands",
    "pi",
    "qoder",
    "qwen-code",
    "replit",
    "roo",
    "trae",
    "trae-cn",
    "windsurf",
    "zencoder",
    "neovate",
    "pochi",
    "adal",
]


def original_lock(home: Path) -> dict[str, object]:
    """A lock exactly as the original CLI writes it (original-system.md §6.5)."""
    store = home / ".better-skills" / "skills"
    return {
        "version": 1,
        "updatedAt": "2025-01-01T00:00:00.000Z",
        "skills": {
            "personal--deploy": {
                "skillId": "SKILL-ID",
                "slug": "deploy",
                "name": "deploy",
                "description": "d",
                "canonicalPath": str(store / "personal--deploy"),
                "source": {
                    "type": "better-skills-api",
                    "serverUrl": "https://old.example",
                    "vault": {
                        "id": "v",
                        "slug": "personal",
                        "name": "Mine",
                        "type": "personal",
                        "color": None,
                        "isReadOnly": False,
                    },
                    "remoteUpdatedAt": "2025-01-01T00:00:00.000Z",
                    "sourceUrl": None,
                    "sourceIdentifier": None,
                },
                "updatedAt": "2025-01-01T00:00:00.000Z",
                "targets": {
                    "claude-code": {
                        "path": str(home / ".claude" / "skills" / "personal--deploy"),
                        "mode": "symlink",
                        "symlinkFailed": False,
                        "installedAt": "2025-01-01T00:00:00.000Z",
                    }
                },
            }
        },
    }


def test_every_agent_of_both_sources_is_in_the_table() -> None:
    table = load_table()
    assert set(AGENTS_MD_IDS) <= set(table.agents)
    assert all(table.canonical_id(a) for a in ORIGINAL_IDS)
    assert table.defaults == ("claude-code", "opencode", "codex")


def test_env_vars_move_the_folders_and_shared_folders_are_grouped(tmp_path: Path) -> None:
    table = load_table()
    env = {"CLAUDE_CONFIG_DIR": "/c", "CODEX_HOME": "/x", "XDG_CONFIG_HOME": "/cfg"}
    assert table.global_dir("claude-code", home=tmp_path, environ=env) == Path("/c/skills")
    assert table.global_dir("opencode", home=tmp_path, environ=env) == Path("/cfg/opencode/skills")
    assert Path("/x/skills") in table.all_global_dirs("codex", home=tmp_path, environ=env)
    assert table.global_dir("claude-code", home=tmp_path, environ={}) == tmp_path / ".claude/skills"
    groups = table.install_dirs(["amp", "replit", "universal", "cursor"], home=tmp_path, environ={})
    assert [(g.path, g.agents) for g in groups] == [
        (tmp_path / ".config/agents/skills", ("amp", "replit", "universal")),
        (tmp_path / ".cursor/skills", ("cursor",)),
    ]
    project = table.install_dirs(
        ["claude-code", "cursor", "codex"], home=tmp_path, environ={}, project=Path("/p")
    )
    assert [(str(g.path), g.agents) for g in project] == [
        ("/p/.claude/skills", ("claude-code",)),
        ("/p/.agents/skills", ("cursor", "codex")),
    ]


def test_detection_by_config_folder_or_executable(tmp_path: Path) -> None:
    table = load_table()
    (tmp_path / ".cursor").mkdir()
    found = table.detect_installed(
        home=tmp_path, environ={}, which=lambda name: "/bin/x" if name == "gemini" else None
    )
    assert set(found) == {"cursor", "gemini-cli"}


def test_config_keeps_unknown_keys_and_reads_aliases(tmp_path: Path) -> None:
    table = load_table()
    path = config_path({"XDG_CONFIG_HOME": str(tmp_path)})
    assert path == tmp_path / "better-skills" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "agents": ["codex", "kimi-cli", "nope"],
                "githubStarPromptedAt": "2025-01-01T00:00:00Z",
            }
        )
    )
    config = load_config(path, table)
    assert config is not None and config.agents == ["codex", "kimi-code-cli"]
    save_config(path, Config(["cursor"]))
    data = json.loads(path.read_text())
    assert data == {
        "version": 1,
        "agents": ["cursor"],
        "githubStarPromptedAt": "2025-01-01T00:00:00Z",
    }
    assert path.read_text().startswith('{\n  "version": 1')
    for bad in (
        "{",
        json.dumps({"version": 2, "agents": ["codex"]}),
        json.dumps({"version": 1, "agents": ["nope"]}),
    ):
        path.write_text(bad)
        assert load_config(path, table) is None


def test_lock_readers_of_both_sides() -> None:
    assert parse_lock({"version": 2, "skills": {}}).entries == {}
    assert parse_lock("nonsense").entries == {}
    lock = parse_lock({"version": 1, "skills": {"k": {"slug": "no id"}, "j": {"skillId": "1"}}})
    assert list(lock.entries) == ["j"]


def test_a_store_written_by_the_original_is_adopted(tmp_path: Path) -> None:
    store = tmp_path / ".better-skills" / "skills"
    folder = store / "personal--deploy"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text("old rendering by the original\n")
    (folder / ".better-skills-install.json").write_text(
        json.dumps({"skillId": "SKILL-ID", "slug": "deploy"})
    )
    link = tmp_path / ".claude" / "skills" / "personal--deploy"
    link.parent.mkdir(parents=True)
    link.symlink_to(os.path.relpath(folder, link.parent))
    lock = original_lock(tmp_path)
    lock["skills"]["stale--gone"] = {"skillId": "GONE", "slug": "gone", "targets": {}}  # type: ignore[index]
    (store / "lock.json").write_text(json.dumps(lock))

    vault = FakeVault()
    skill = vault.add("personal", "deploy", {"SKILL.md": b"new\n"})
    del vault.skills[skill.id]
    skill.id = "SKILL-ID"
    vault.skills["SKILL-ID"] = skill
    result = sync(tmp_path, vault, agents=("claude-code",)).result
    assert result is not None and result.ok
    assert result.updated == ["Personal / deploy"] and result.removed
    # One store: the same folder and link, refreshed; no duplicates, no orphans.
    assert sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) == [
        "lock.json",
        "personal--deploy",
    ]
    assert (link / "SKILL.md").read_text() == "new\n"
    data = json.loads((store / "lock.json").read_text())
    assert list(data["skills"]) == ["personal--deploy"]
    entry = data["skills"]["personal--deploy"]
    # The original's reader still finds every field it reads, with the values it expects.
    assert entry["skillId"] == "SKILL-ID"
    assert entry["source"]["remoteUpdatedAt"] == "2026-01-01T00:00:00.000Z"
    assert entry["targets"]["claude-code"]["path"] == str(link)
    assert entry["targets"]["claude-code"]["installedAt"] == "2025-01-01T00:00:00.000Z"
    assert entry["source"]["sourceUrl"] is None
    assert read_lock(store).entries["personal--deploy"].files == {
        "SKILL.md": entry["files"]["SKILL.md"]
    }
    assert sync(tmp_path, vault, agents=("claude-code",)).plan.is_empty


def test_unknown_lock_fields_survive_our_rewrite(tmp_path: Path) -> None:
    store = tmp_path / ".better-skills" / "skills"
    store.mkdir(parents=True)
    lock = original_lock(tmp_path)
    lock["futureField"] = 1
    lock["skills"]["personal--deploy"]["extra"] = "kept"  # type: ignore[index]
    (store / "lock.json").write_text(json.dumps(lock))
    vault = FakeVault()
    skill = vault.add("personal", "deploy")
    vault.skills = {"SKILL-ID": skill}
    skill.id = "SKILL-ID"
    sync(tmp_path, vault, agents=("claude-code",))
    data = json.loads((store / "lock.json").read_text())
    assert data["futureField"] == 1
    assert data["skills"]["personal--deploy"]["extra"] == "kept"


_JSON_LEAF = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    top=st.dictionaries(st.text(max_size=6), _JSON, max_size=4),
    rows=st.dictionaries(
        st.text(max_size=6), st.dictionaries(st.text(max_size=6), _JSON), max_size=4
    ),
)
def test_the_lock_s_one_row_per_skill_text_is_the_same_json(
    top: dict[str, object], rows: dict[str, object]
) -> None:
    value = {**top, "skills": rows}
    text = dump_json_rows(value, "skills").decode("utf-8")
    assert json.loads(text) == value
    assert text.endswith("}\n")
    if rows:  # each skill on a line of its own: a change to one skill is a one-line diff
        lines = text.split("\n")  # not splitlines(): U+2028 and friends are left raw
        start = lines.index('  "skills": {')
        assert len(lines[start + 1 : start + 1 + len(rows)]) == len(rows)
        for line, (key, row) in zip(lines[start + 1 :], rows.items(), strict=False):
            assert json.loads("{" + line.rstrip(",") + "}") == {key: row}


def test_the_lock_is_written_one_skill_a_line_and_the_cache_parses(tmp_path: Path) -> None:
    vault = FakeVault()
    for slug in ("a", "b", "c"):
        vault.add("personal", slug, {"SKILL.md": f"---\nname: {slug}\n---\n".encode()})
    assert sync(tmp_path, vault).result.ok  # type: ignore[union-attr]
    store = tmp_path / ".better-skills" / "skills"
    text = (store / "lock.json").read_text()
    rows = [line for line in text.splitlines() if line.startswith('    "personal--')]
    assert len(rows) == 3 and all('"skillId": ' in row for row in rows)
    assert set(read_lock(store).entries) == {"personal--a", "personal--b", "personal--c"}
    cache = (store / ".manifest-cache.json").read_text()
    assert cache.count("\n") == 1 and len(json.loads(cache)["manifest"]["items"]) == 3
    again = sync(tmp_path, vault)  # the server answers 304: the plan comes from the cache
    assert again.plan.is_empty and len(again.plan.wanted) == 3


def test_the_quick_fingerprint_equals_the_one_found_by_listing(tmp_path: Path) -> None:
    """A folder's fingerprint from one lstat per recorded path (each sync) is the one found by
    listing it (when its hashes were recorded): else every sync would hash every skill again.
    Several layouts, so the cache of sub-folders per layout is used and not mixed up."""
    layouts = [
        ["SKILL.md"],
        ["SKILL.md", "references/guide.md", "scripts/run.sh"],
        ["SKILL.md", "a/b/c/deep.md", "a/top.md", "z.txt"],
        ["SKILL.md", "references/guide.md", "scripts/run.sh"],
    ]
    for index, files in enumerate(layouts):
        folder = tmp_path / f"skill-{index}"
        for rel in files:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(rel)
        listed = scan_fingerprint(folder)
        assert listed is not None and listed.startswith("v2:")
        assert stat_fingerprint(folder, files) == listed
        assert stat_fingerprint(folder, list(reversed(files))) == listed
    deep = tmp_path / "skill-2"
    before = stat_fingerprint(deep, layouts[2])
    (deep / "a" / "b" / "new.md").write_text("added here")  # only a/b/ changes
    assert stat_fingerprint(deep, layouts[2]) != before
