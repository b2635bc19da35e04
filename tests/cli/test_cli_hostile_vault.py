"""A hostile vault server against the real CLI (issue 18 item 3): ``sync``, ``clone``, ``get``
and ``list`` as subprocesses, with a temporary HOME, against :class:`LocalServer` serving
manifests, bundles and skills built to hurt: ``../`` and absolute paths, a path on the
store's ``lock.json`` or the install marker, slugs with separators and control characters,
escape sequences in names and descriptions, thousands of files, a declared body past the
caps, a gzip bomb.

Every run must: end with a documented exit code and no traceback; write nothing outside the
skill folders (every path under the temporary tree is listed before and after); print no
terminal control sequence; and finish well inside its timeout.

(Bundles are JSON, so a "symlink entry" cannot be expressed in one; symlinks planted on disk
are the subject of tests/sync/test_executor.py. The gzip bomb is HTTP ``Content-Encoding``,
which the CLI never asks for and never undoes.)
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client.local_server import AuthScript, LocalServer, Recorded, Reply, trickle
from tests.support.live_cli import Cli

TOKEN = "tok"
#: The exit codes README documents (0 ok, 1 error, 2 usage, 3 network, 4 auth, 5+ specific).
DOCUMENTED = set(range(0, 10))
ESCAPE_NAME = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202ename"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def skill_md(name: str = "fine", description: str = "A skill.") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n# Body\n"


def manifest_item(slug: str, vault_slug: str = "personal", **extra: Any) -> dict[str, Any]:
    item = {
        "id": extra.pop("id", str(uuid.uuid4())),
        "vault": {"id": "v1", "slug": vault_slug, "name": "Personal", "type": "personal"},
        "slug": slug,
        "name": extra.pop("name", slug),
        "description": extra.pop("description", "A skill."),
        "content_hash": extra.pop("content_hash", "a" * 64),
        "updated_at": "2026-01-01T00:00:00Z",
    }
    item.update(extra)
    return item


class VaultScript:
    """The auth server of :class:`AuthScript` plus a scripted vault: ``routes`` maps a path
    (without query) to a reply or a function of the request."""

    def __init__(self) -> None:
        self.auth = AuthScript("h", valid={TOKEN})
        self.routes: dict[str, Reply | Callable[[Recorded], Reply]] = {}

    def __call__(self, request: Recorded) -> Reply:
        path = request.path.split("?", 1)[0]
        route = self.routes.get(path)
        if route is None:
            return self.auth(request)
        return route(request) if callable(route) else route

    def sync(self, items: list[dict[str, Any]], files: dict[str, dict[str, str]]) -> None:
        """A manifest of ``items`` and a bundle giving each id its ``files`` (path -> text)."""
        self.routes["/api/v1/sync/manifest"] = Reply(
            200, {"items": items, "generated_at": "2026-01-01T00:00:00Z"}
        )

        def bundle(request: Recorded) -> Reply:
            ids = json.loads(request.body)["ids"]
            out = []
            for skill_id in ids:
                item = next(i for i in items if i["id"] == skill_id)
                wire = [{"path": p, "content": c} for p, c in files[skill_id].items()]
                out.append({"id": skill_id, "content_hash": item["content_hash"], "files": wire})
            return Reply(200, {"items": out})

        self.routes["/api/v1/sync/bundle"] = bundle


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[tuple[VaultScript, Cli, Path]]:
    script = VaultScript()
    with LocalServer(script) as server:  # type: ignore[arg-type]
        script.auth.url = server.url
        cli = Cli(tmp_path, server.url)
        home = tmp_path / "home"
        home.mkdir()
        cli.env.update({"HOME": str(home), "BETTER_SKILLS_TOKEN": TOKEN})
        for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            cli.env.pop(name, None)
        configured = cli.run("config", "--agents", "claude-code")
        assert configured.returncode == 0, configured.stderr
        yield script, cli, tmp_path


def tree(root: Path) -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


def allowed(path: str) -> bool:
    """Where a sync or clone may write: inside a skill folder of the store (a key always holds
    "--") or of an agent, the store's own files, the CLI's config, a clone in the cwd."""
    parts = path.split("/")
    if parts[0] in ("cli-config", "cli-cwd"):
        return True
    for base in (["home", ".better-skills", "skills"], ["home", ".claude", "skills"]):
        if parts[: len(base)] == base[: len(parts)] and len(parts) <= len(base):
            return True  # the folders themselves
        if parts[: len(base)] == base:
            key = parts[len(base)]
            store_file = base[1] == ".better-skills" and (key == "lock.json" or key[0] == ".")
            return "--" in key or store_file
    return False


def run(cli: Cli, root: Path, *args: str, timeout: float = 60) -> Any:
    before = tree(root)
    started = time.monotonic()
    done = cli.run(*args, timeout=timeout)
    elapsed = time.monotonic() - started
    assert done.returncode in DOCUMENTED, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    for stream in (done.stdout, done.stderr):
        assert "\x1b" not in stream and "\x9b" not in stream and "\x07" not in stream, stream
        assert "\u202e" not in stream, stream
    new = tree(root) - before
    outside = sorted(p for p in new if not allowed(p))
    assert not outside, outside
    assert elapsed < timeout
    return done


def test_sync_refuses_paths_that_leave_the_skill_folder(
    hostile: tuple[VaultScript, Cli, Path],
) -> None:
    script, cli, root = hostile
    bad = {
        "../pwned-up.md": "x",
        "../../pwned-home.md": "x",
        "/tmp/pwned-abs.md": "x",
        "a/../../pwned-dots.md": "x",
        "a\\..\\..\\pwned-back.md": "x",
        "lock.json": '{"version": 1, "skills": {"pwned": {}}}',
        ".better-skills-install.json": '{"pwned": true}',
        "C:/pwned-drive.md": "x",
        "a/\x00/pwned-nul.md": "x",
    }
    items = []
    files = {}
    for n, (path, content) in enumerate(bad.items()):
        item = manifest_item(f"skill-{n}")
        items.append(item)
        files[item["id"]] = {"SKILL.md": skill_md(f"skill-{n}"), path: content}
    good = manifest_item("good")
    items.append(good)
    files[good["id"]] = {"SKILL.md": skill_md("good"), "references/ok.md": "fine"}
    script.sync(items, files)
    done = run(cli, root, "sync", "--json")
    store = root / "home" / ".better-skills" / "skills"
    assert (store / "personal--good" / "references" / "ok.md").read_text() == "fine"
    lock = json.loads((store / "lock.json").read_text())
    assert lock["version"] == 1 and '"pwned": {}' not in json.dumps(lock)
    for key in os.listdir(store):
        if key.startswith("personal--skill-"):
            marker = store / key / ".better-skills-install.json"
            if marker.exists():  # ours, not the one the server sent
                assert '"pwned": true' not in marker.read_text()
    assert done.returncode in (0, 1), done.stderr


def test_sync_survives_hostile_slugs_names_and_descriptions(
    hostile: tuple[VaultScript, Cli, Path],
) -> None:
    script, cli, root = hostile
    slugs = [
        "../../pwned-slug",
        "/etc/pwned-abs",
        "a/b",
        "x\\y",
        ".",
        "..",
        "lock.json",
        "ctl\x1b[31m\x07\r\nx",
        "\u202epwned",
    ]
    items = []
    files = {}
    for slug in slugs:
        item = manifest_item(slug, name=ESCAPE_NAME, description="\x1b[2J\x1b]52;c;cHduZWQ=\x07")
        items.append(item)
        files[item["id"]] = {"SKILL.md": skill_md()}
    # Vault slugs too: "lock.json" + "." used to become the key "lock.json".
    item = manifest_item(".", vault_slug="lock.json")
    items.append(item)
    files[item["id"]] = {"SKILL.md": skill_md()}
    item = manifest_item("lock.json", vault_slug="..")
    items.append(item)
    files[item["id"]] = {"SKILL.md": skill_md()}
    script.sync(items, files)
    run(cli, root, "sync")
    store = root / "home" / ".better-skills" / "skills"
    assert (store / "lock.json").is_file()
    json.loads((store / "lock.json").read_text())
    for key in os.listdir(store):
        assert "/" not in key and not key.startswith("..")
    # A second sync (the lock as the first one wrote it) is just as safe.
    run(cli, root, "sync", "--dry-run")
    run(cli, root, "sync", "--json")


def test_sync_of_thousands_of_files_stays_inside_and_in_time(
    hostile: tuple[VaultScript, Cli, Path],
) -> None:
    script, cli, root = hostile
    item = manifest_item("many")
    many = {"SKILL.md": skill_md("many")}
    many.update({f"references/f{n:05d}.md": f"{n}\n" for n in range(3000)})
    script.sync([item], {item["id"]: many})
    run(cli, root, "sync", timeout=120)
    folder = root / "home" / ".better-skills" / "skills" / "personal--many" / "references"
    assert len(os.listdir(folder)) == 3000


def test_a_body_declared_past_the_cap_is_refused_at_once(
    hostile: tuple[VaultScript, Cli, Path],
) -> None:
    script, cli, root = hostile
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: 629145600\r\n\r\n{"  # 600 MiB declared, then a trickle
    script.routes["/api/v1/sync/manifest"] = lambda request: trickle(head, every=0.5, limit=30)
    started = time.monotonic()
    done = run(cli, root, "sync", timeout=30)
    assert time.monotonic() - started < 15
    assert done.returncode != 0
    assert "too large" in done.stderr or "larger than" in done.stderr, done.stderr


def test_a_gzip_bomb_is_never_inflated(
    hostile: tuple[VaultScript, Cli, Path],
) -> None:
    """The CLI asks for no compression (``http.client`` sends no ``Accept-Encoding`` and
    inflates nothing), so a gzip answer is refused as what it is: bytes that are not JSON."""
    script, cli, root = hostile
    inflated = 80 * 1024 * 1024  # past the manifest's 64 MiB cap
    bomb = gzip.compress(b'{"items": [' + b" " * inflated, compresslevel=9)
    assert len(bomb) < 200 * 1024
    script.routes["/api/v1/sync/manifest"] = Reply(
        200, bomb, {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )
    done = run(cli, root, "sync", timeout=60)
    assert done.returncode == 1
    assert "not JSON" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def skill_answer(slug: str, files: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "id": "11111111-1111-4111-8111-111111111111",
        "vault": {"id": "v1", "slug": "personal", "name": "Personal", "type": "personal"},
        "slug": slug,
        "name": extra.pop("name", slug),
        "description": extra.pop("description", "A skill."),
        "content_hash": "a" * 64,
        "etag": '"' + "a" * 64 + '"',
        "file_count": len(files),
        "size": 1,
        "frontmatter": {},
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "files": [
            {
                "path": p,
                "kind": "reference",
                "size": len(c),
                "sha256": sha(c.encode()),
                "media_type": "text/markdown",
                "content": c,
            }
            for p, c in files.items()
        ],
        **extra,
    }


SKILL_ID = "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize(
    "slug",
    ["../../pwned-clone", "/tmp/pwned-clone-abs", "a/b", "..", ".", "x\x1b[31m", "\u202epwned"],
)
def test_clone_refuses_a_slug_that_is_not_a_folder_name(
    hostile: tuple[VaultScript, Cli, Path], slug: str
) -> None:
    script, cli, root = hostile
    script.routes[f"/api/v1/skills/{SKILL_ID}"] = Reply(
        200, skill_answer(slug, {"SKILL.md": skill_md()})
    )
    done = run(cli, root, "clone", SKILL_ID)
    assert done.returncode != 0
    assert not any("pwned" in p for p in tree(root))


@pytest.mark.parametrize(
    "path", ["../pwned.md", "/tmp/pwned-abs.md", "a/../../pwned.md", ".better-skills-clone.json"]
)
def test_clone_refuses_unsafe_file_paths_and_writes_nothing(
    hostile: tuple[VaultScript, Cli, Path], path: str
) -> None:
    script, cli, root = hostile
    script.routes[f"/api/v1/skills/{SKILL_ID}"] = Reply(
        200, skill_answer("fine", {"SKILL.md": skill_md(), path: "pwned"})
    )
    done = run(cli, root, "clone", SKILL_ID)
    folder = root / "cli-cwd" / "fine"
    if done.returncode == 0:  # a marker-named file may be refused or overwritten by ours
        assert "pwned" not in (folder / path).read_text()
    else:
        assert not folder.exists() or not any(folder.iterdir())


def test_get_and_list_print_no_control_sequences(
    hostile: tuple[VaultScript, Cli, Path],
) -> None:
    script, cli, root = hostile
    evil = skill_answer(
        "fine",
        {"SKILL.md": skill_md(ESCAPE_NAME, "\x1b[2J desc"), "x\x1b[31m.md": "\x1b]0;t\x07"},
        name=ESCAPE_NAME,
        description="\x1b]52;c;cHduZWQ=\x07 clipboard",
    )
    script.routes[f"/api/v1/skills/{SKILL_ID}"] = Reply(200, evil)
    summary = {k: v for k, v in evil.items() if k not in ("files", "frontmatter")}
    script.routes["/api/v1/skills"] = Reply(200, {"items": [summary], "next_cursor": None})
    script.routes["/api/v1/skills/search"] = Reply(
        200, {"items": [{**summary, "match": "name", "score": 1, "snippet": "\x1b[5m"}], "total": 1}
    )
    run(cli, root, "get", SKILL_ID)
    run(cli, root, "get", SKILL_ID, "--file", "x\x1b[31m.md")
    run(cli, root, "list")
    run(cli, root, "search", "fine")


def test_search_says_when_the_total_is_a_lower_bound(
    hostile: tuple[VaultScript, Cli, Path],
) -> None:
    """Past the server's counting cap ``total_exact`` is false: the CLI prints "1000+" and
    passes the flag on in ``--json``; an answer without the flag (an older server) is exact."""
    script, cli, root = hostile
    item = {
        **{k: v for k, v in skill_answer("fine", {"SKILL.md": skill_md()}).items()},
        "match": "content",
        "score": 0.5,
        "snippet": "fine",
    }
    item = {k: v for k, v in item.items() if k not in ("files", "frontmatter")}
    answer = {"items": [item], "total": 1000, "total_exact": False}
    script.routes["/api/v1/skills/search"] = Reply(200, answer)
    assert "1 of 1000+ hits" in run(cli, root, "search", "fine").stderr
    assert json.loads(run(cli, root, "search", "fine", "--json").stdout)["total_exact"] is False
    script.routes["/api/v1/skills/search"] = Reply(200, {"items": [item], "total": 7})
    assert "1 of 7 hits" in run(cli, root, "search", "fine").stderr
    assert json.loads(run(cli, root, "search", "fine", "--json").stdout)["total_exact"] is True
