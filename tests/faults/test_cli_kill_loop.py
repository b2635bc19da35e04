"""SIGKILL of the real CLI at random moments of ``better-skills sync``, against a real server.

Each round changes the vault on the server (files edited, a skill added, one renamed, one
deleted), syncs a reference home without interruption (its time sets the range of kill
delays), then starts the same sync in the tested home and kills it after a random delay.
Right after the kill the store must be sound:

- ``lock.json`` is absent or parseable, and each skill folder it records holds a complete
  version (the lock's files or, if the lock was not written yet, the folder's own marker);
- no half-written skill folder is visible as installed: every folder in the store and every
  link in an agent folder is a complete skill (a link may dangle for an instant between the
  old folder moving aside and the new one moving in; it never shows a partial folder);
- nothing outside the store and the agents' skill folders changed, nor a person's own
  folder inside an agent folder.

Then a sync repairs everything: the tested home equals the reference home (files, links,
lock), and nothing of ours is mistaken for a person's edit.

``BS_KILL_LOOP`` rounds (5 in CI); ``BS_KILL_LOOP=100`` is the long run of docs/security.md.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from better_skills.sync.store import hash_folder, read_marker
from tests.faults.support import account_token
from tests.support.live_cli import executable
from tests.support.live_server import LiveServer
from tests.sync.test_kill_during_apply import lock_without_times, tree

ROUNDS = int(os.environ.get("BS_KILL_LOOP", "5"))
AGENT_DIRS = (".claude/skills", ".agents/skills", ".cursor/skills")
SKILLS = 30


def skill_files(name: str, round_no: int, extra: int = 3) -> list[dict[str, str]]:
    text = f"---\nname: {name}\ndescription: The {name} skill.\n---\nround {round_no}\n"
    files = [{"path": "SKILL.md", "content": text}]
    files += [
        {"path": f"references/{i}.md", "content": f"{name} {round_no} {i}\n" * 200}
        for i in range(extra)
    ]
    return files


class Home:
    """A HOME for the CLI, with things of the person's own that sync must not touch."""

    def __init__(self, path: Path, server: LiveServer, token: str) -> None:
        self.path = path
        path.mkdir()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("SERVER_URL", "BETTER_SKILLS_TOKEN", "XDG_CONFIG_HOME")
            and not k.startswith(("CLAUDE_", "CODEX_"))
        }
        self.env.update(
            {
                "HOME": str(path),
                "SERVER_URL": server.url,
                "BETTER_SKILLS_TOKEN": token,
                "XDG_CONFIG_HOME": str(path / ".config"),
                "NO_COLOR": "1",
            }
        )
        (path / "notes.txt").write_text("mine\n")
        own = path / ".claude" / "skills" / "my-own"
        own.mkdir(parents=True)
        (own / "SKILL.md").write_text("my own skill\n")
        (path / ".claude" / "settings.json").write_text("{}\n")
        assert self.run("config", "--agents", "claude-code,codex,cursor").returncode == 0

    def run(
        self, *args: str, preexec_fn: Callable[[], None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*executable(), *args],
            env=self.env,
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
            preexec_fn=preexec_fn,
        )

    def start_sync(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*executable(), "sync"],
            env=self.env,
            cwd=self.path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def store(self) -> Path:
        return self.path / ".better-skills" / "skills"

    def outside(self) -> dict[str, object]:
        """Everything that is neither the store, nor our links, nor the CLI's config."""
        everything = tree(self.path)
        ours = (".better-skills/", ".config/better-skills/")
        return {
            rel: value
            for rel, value in everything.items()
            if not rel.startswith(ours)
            and not (
                rel.startswith(AGENT_DIRS)
                and not rel.startswith(".claude/skills/my-own")
                and rel.count("/") >= 2
            )
        }


def installed(home: Home) -> dict[str, object]:
    """The home's files and links, without the manifest cache (it holds a time of its own)."""
    return {k: v for k, v in tree(home.path).items() if not k.endswith(".manifest-cache.json")}


def assert_same_lock(tested: Home, reference: Home) -> None:
    """The two locks hold the same entries (times and stat fingerprints aside)."""
    a = lock_without_times(tested.path)
    b = lock_without_times(reference.path)
    for key in sorted(set(a["skills"]) | set(b["skills"])):  # type: ignore[arg-type]
        x, y = a["skills"].get(key), b["skills"].get(key)  # type: ignore[attr-defined]
        if x != y and x and y:
            fields = {f: (x.get(f), y.get(f)) for f in set(x) | set(y) if x.get(f) != y.get(f)}
            raise AssertionError(f"{key}: {fields}")
        assert x == y, key
    assert a == b


def timed_sync(home: Home) -> tuple[float, float]:
    """Sync ``home`` to the end: (seconds in all, seconds from the first skill written)."""
    started = time.monotonic()
    process = home.start_sync()
    applying = wait_for_staging(home, process)
    assert process.wait(120) == 0
    ended = time.monotonic()
    return ended - started, ended - (applying or ended)


def wait_for_staging(home: Home, process: subprocess.Popen[bytes]) -> float | None:
    """When the sync began writing skills (its staging folder appeared); None if it ended
    first."""
    staging = home.store / ".staging"
    while process.poll() is None:
        if staging.exists():
            return time.monotonic()
        time.sleep(0.002)
    return None


def complete(folder: Path) -> bool:
    """A skill folder of ours with every file its marker lists, and nothing else."""
    marker = read_marker(folder)
    return marker is not None and hash_folder(folder) == marker.get("files")


def assert_sound(home: Home, before_outside: dict[str, object]) -> None:
    """The invariants right after a kill."""
    store = home.store
    lock_path = store / "lock.json"
    lock = json.loads(lock_path.read_text()) if lock_path.exists() else {"skills": {}}
    assert lock.get("version", 1) == 1
    for key, entry in lock["skills"].items():
        folder = store / key
        if folder.is_dir():
            on_disk = hash_folder(folder)
            marker = read_marker(folder) or {}
            assert on_disk in (entry.get("files"), marker.get("files")), key
    if store.is_dir():
        for child in store.iterdir():
            if child.name.startswith("."):
                continue
            if child.is_dir():
                assert complete(child), f"half-written skill visible: {child}"
            else:
                assert child.name == "lock.json", child
    for agent_dir in AGENT_DIRS:
        folder = home.path / agent_dir
        if not folder.is_dir():
            continue
        for link in folder.iterdir():
            if link.name == "my-own":
                assert (link / "SKILL.md").read_text() == "my own skill\n"
                continue
            if link.is_symlink():
                assert not link.exists() or complete(link), f"partial skill behind {link}"
            else:
                assert complete(link), link  # a copy: only when symlinks fail
    assert home.outside() == before_outside


class Vault:
    """The person's skills on the server, changed a little every round."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.api = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.ids: dict[str, str] = {}
        self.serial = 0

    def create(self, name: str, round_no: int) -> None:
        response = self.api.post("/api/v1/skills", json={"files": skill_files(name, round_no)})
        assert response.status_code == 201, response.text
        self.ids[name] = response.json()["id"]

    def change(self, rng: random.Random, round_no: int) -> None:
        names = sorted(self.ids)
        for name in rng.sample(names, 6):
            response = self.api.put(
                f"/api/v1/skills/{self.ids[name]}",
                json={"files": skill_files(name, round_no, extra=rng.randint(1, 4))},
            )
            assert response.status_code == 200, response.text
        renamed = rng.choice(names)
        self.serial += 1
        response = self.api.put(
            f"/api/v1/skills/{self.ids[renamed]}",
            json={"files": skill_files(renamed, round_no), "slug": f"{renamed}-r{self.serial}"},
        )
        assert response.status_code == 200, response.text
        gone = rng.choice([n for n in names if n != renamed])
        assert self.api.delete(f"/api/v1/skills/{self.ids.pop(gone)}").status_code == 204
        self.create(f"new-{round_no}", round_no)


@pytest.mark.backends("sqlite")
def test_sigkill_of_the_cli_at_random_moments_of_sync(
    server_factory: Callable[..., LiveServer], backend: str, tmp_path: Path
) -> None:
    # Each round makes about a dozen writes: a hundred rounds pass the default budget of
    # RATE_LIMIT_WRITES (600 per 10 minutes), which tests/security tests on its own.
    server = server_factory(RATE_LIMIT_WRITES="100000/10m")
    token = account_token(server)
    vault = Vault(server, token)
    for i in range(SKILLS):
        vault.create(f"skill-{i:02d}", 0)
    tested = Home(tmp_path / "tested", server, token)
    reference = Home(tmp_path / "reference", server, token)
    assert reference.run("sync").returncode == 0
    assert tested.run("sync").returncode == 0
    outside = tested.outside()

    seed = int(os.environ.get("BS_FAULT_SEED", time.time_ns() % 1_000_000))
    print(f"BS_FAULT_SEED={seed}", flush=True)  # to replay a failure
    rng = random.Random(seed)
    landed = {"finished": 0, "before any change": 0, "mid-apply": 0, "after the apply": 0}
    for round_no in range(1, ROUNDS + 1):
        vault.change(rng, round_no)
        total, apply_time = timed_sync(reference)

        before, wanted = installed(tested), installed(reference)
        process = tested.start_sync()
        if round_no % 2:  # anywhere: start-up, manifest, plan, apply, exit
            time.sleep(rng.uniform(0, total))
        else:  # inside the apply: once the first skill is being written
            wait_for_staging(tested, process)
            time.sleep(rng.uniform(0, apply_time))
        process.send_signal(signal.SIGKILL)
        if process.wait(30) == 0:
            landed["finished"] += 1
        else:
            now = installed(tested)
            if now == before:
                landed["before any change"] += 1
            elif now == wanted:
                landed["after the apply"] += 1
            else:
                landed["mid-apply"] += 1
        assert_sound(tested, outside)

        repaired = tested.run("sync")
        assert repaired.returncode == 0, repaired.stderr
        assert "edited here" not in repaired.stderr, repaired.stderr
        assert installed(tested) == installed(reference)
        assert_same_lock(tested, reference)
        print(f"round {round_no}: {landed}", flush=True)
    print(f"CLI kills in {ROUNDS} rounds: {landed}")
    assert landed["finished"] < ROUNDS  # the kills did land
    vault.api.close()
