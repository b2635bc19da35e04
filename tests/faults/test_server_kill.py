"""SIGKILL of the server in the middle of a skill update, on SQLite and PostgreSQL.

Afterwards the skill is wholly the old version or wholly the new one (its files, content hash,
counts, version number) and its links are exactly the mentions in its files; the database is
read directly, not through the server. Two ways to land the kill:

- exactly inside the transaction: a wrapper of the server (``paused_server.py``, test code)
  blocks after the files are written and before the links are, and the test kills it there;
- at random moments while a large update (150 files, ~1.2 MB) streams in and is written:
  ``BS_SERVER_KILLS`` iterations per backend (1 in CI).
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import httpx

from tests.faults.support import account_token, as_upload, query, stored_skill
from tests.support.live_server import LiveServer

FILES = 150
KILLS = int(os.environ.get("BS_SERVER_KILLS", "1"))


def skill_md(name: str, body: str) -> bytes:
    return f"---\nname: {name}\ndescription: The {name} skill.\n---\n{body}".encode()


def version(tag: str, mention_skill: str, mention_file: str) -> dict[str, bytes]:
    """A large skill; versions "a" and "b" differ in every file, and each has 20 files the
    other lacks, so an update rewrites, deletes and adds files and replaces its links."""
    files = {
        "SKILL.md": skill_md("big", f"Version {tag}: see [[skill:{mention_skill}]].\n"),
        "references/links.md": f"# Links {tag}\n[[resource:{mention_file}]]\n".encode(),
    }
    shared = range(FILES - 22)
    own = range(1000, 1020) if tag == "a" else range(2000, 2020)
    for i in [*shared, *own]:
        files[f"docs/{i:04d}.md"] = (f"# {tag} {i}\n" + f"{tag}{i} line\n" * 900).encode()
    return files


class Api:
    def __init__(self, server: LiveServer, token: str) -> None:
        self.server = server
        self.headers = {"Authorization": f"Bearer {token}"}

    def create(self, files: dict[str, bytes]) -> dict:
        response = httpx.post(
            self.server.url + "/api/v1/skills",
            json={"files": as_upload(files)},
            headers=self.headers,
            timeout=60,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def update(self, skill_id: str, files: dict[str, bytes], timeout: float = 60) -> httpx.Response:
        return httpx.put(
            f"{self.server.url}/api/v1/skills/{skill_id}",
            json={"files": as_upload(files)},
            headers=self.headers,
            timeout=timeout,
        )

    def file_ids(self, skill_id: str) -> dict[str, str]:
        response = httpx.get(
            f"{self.server.url}/api/v1/skills/{skill_id}", headers=self.headers, timeout=20
        )
        assert response.status_code == 200, response.text
        return {f["path"]: f["id"] for f in response.json()["files"]}


class Scene:
    """A server with a big skill ("big") whose versions mention other skills and files."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.api = Api(server, account_token(server))
        x = self.api.create({"SKILL.md": skill_md("x", "X\n")})
        y = self.api.create({"SKILL.md": skill_md("y", "Y\n")})
        z = self.api.create(
            {"SKILL.md": skill_md("z", "Z\n"), "one.md": b"one\n", "two.md": b"two\n"}
        )
        z_files = self.api.file_ids(z["id"])
        self.versions = {
            "a": version("a", x["id"], z_files["one.md"]),
            "b": version("b", y["id"], z_files["two.md"]),
        }
        self.skill_id = self.api.create(self.versions["a"])["id"]
        self.current, self.version = "a", 1

    def check(self) -> str:
        """Which version the database holds ("a" or "b"), after checking every invariant."""
        stored = stored_skill(self.server.database_url, self.skill_id)
        matches = [tag for tag, files in self.versions.items() if files == stored.files]
        assert len(matches) == 1, sorted(stored.files)[:5]  # wholly one version, no mixture
        tag = matches[0]
        # Each committed update adds one to the version; a lost one adds nothing.
        expected = self.version if tag == self.current else self.version + 1
        assert stored.version == expected, (stored.version, expected, tag)
        self.current, self.version = tag, stored.version
        return tag

    def other(self) -> str:
        return "b" if self.current == "a" else "a"


def test_sigkill_in_the_middle_of_skill_updates(pausable_server: LiveServer, backend: str) -> None:
    server = pausable_server
    scene = Scene(server)
    assert scene.check() == "a"

    # 1. Exactly inside the transaction: the files rewritten, the links not yet.
    pause = Path(server.env["BS_FAULT_PAUSE_FILE"])
    Path(f"{pause}.arm").write_text(scene.skill_id)
    answers: list[object] = []
    sender = threading.Thread(target=lambda: answers.append(_try_update(scene, "b")))
    sender.start()
    deadline = time.monotonic() + 60
    while not pause.exists():
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.01)
    server.kill()
    sender.join(30)
    assert answers and isinstance(answers[0], httpx.HTTPError), answers
    Path(f"{pause}.arm").unlink()
    server.start()
    assert scene.check() == "a"
    # The server works on: the same update now commits, wholly.
    started = time.monotonic()
    assert scene.api.update(scene.skill_id, scene.versions["b"]).status_code == 200
    duration = time.monotonic() - started  # how long a whole update takes here
    assert scene.check() == "b"

    # 2. At random moments of the update (sending, parsing, checking, writing, committing).
    seed = int(os.environ.get("BS_FAULT_SEED", time.time_ns() % 1_000_000))
    print(f"BS_FAULT_SEED={seed}", flush=True)  # to replay a failure
    rng = random.Random(seed)
    outcomes = {"old": 0, "new": 0}
    for _ in range(KILLS):
        target = scene.other()
        sender = threading.Thread(target=_try_update, args=(scene, target))
        sender.start()
        time.sleep(rng.uniform(0.1, 1.1) * duration)
        server.kill()
        sender.join(30)
        server.start()
        outcomes["new" if scene.check() == target else "old"] += 1
    print(f"server kills ({backend}): 1 paused + {outcomes}, update time {duration:.2f} s")
    _assert_integrity(server)


def _try_update(scene: Scene, tag: str) -> object:
    try:
        return scene.api.update(scene.skill_id, scene.versions[tag], timeout=60).status_code
    except httpx.HTTPError as exc:
        return exc


def _assert_integrity(server: LiveServer) -> None:
    if server.database_url.startswith("sqlite"):
        assert query(server.database_url, "PRAGMA integrity_check") == [("ok",)]
    # No link points at a file or skill that is gone (foreign keys hold on both backends).
    orphans = query(
        server.database_url,
        "SELECT COUNT(*) FROM skill_links l LEFT JOIN skill_files f ON f.id = l.source_file_id "
        "WHERE f.id IS NULL",
    )
    assert orphans == [(0,)]
