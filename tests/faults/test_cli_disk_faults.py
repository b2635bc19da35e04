"""A full disk and a read-only store under ``better-skills sync``: a clear message, exit 1,
no traceback, and the store as it was (a skill that could not be written keeps its old
version, complete); once there is room again, the next sync completes.

The full disk is a real one where the test may mount a small tmpfs (root), and everywhere a
file-size limit on the CLI process (``RLIMIT_FSIZE``: writes past it fail with EFBIG, as on
a disk that has no room for that file). The read-only store is a read-only bind mount (root)
or a store without write permission (anyone else).
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.support import account_token
from tests.faults.test_cli_kill_loop import (
    Home,
    assert_same_lock,
    assert_sound,
    complete,
    installed,
)
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.backends("sqlite")  # about the CLI's disk, not the server's database


def skill(name: str, body: str, big: int = 0) -> list[dict[str, str]]:
    files = [
        {"path": "SKILL.md", "content": f"---\nname: {name}\ndescription: {name}.\n---\n{body}\n"}
    ]
    if big:
        files += [{"path": f"big/{i}.md", "content": "x" * big} for i in range(2)]
    return files


class Scene:
    def __init__(self, server: LiveServer, tmp_path: Path) -> None:
        self.token = account_token(server)
        self.server = server
        self.tmp_path = tmp_path
        self.api = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        self.ids = {n: self.create(skill(n, "v1")) for n in ("alpha", "beta", "gamma")}
        self.home = Home(tmp_path / "home", server, self.token)

    def create(self, files: list[dict[str, str]]) -> str:
        response = self.api.post("/api/v1/skills", json={"files": files})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def update(self, name: str, files: list[dict[str, str]]) -> None:
        response = self.api.put(f"/api/v1/skills/{self.ids[name]}", json={"files": files})
        assert response.status_code == 200, response.text

    def reference(self) -> Home:
        home = Home(self.tmp_path / "reference", self.server, self.token)
        assert home.run("sync").returncode == 0
        return home


@pytest.fixture
def scene(server_factory: Callable[..., LiveServer], backend: str, tmp_path: Path) -> Scene:
    return Scene(server_factory(), tmp_path)


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Error:" not in done.stderr, done.stderr


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_file_too_large_for_the_disk_keeps_the_old_version(scene: Scene) -> None:
    home = scene.home
    assert home.run("sync").returncode == 0
    outside = home.outside()
    old_alpha = installed(home)
    scene.update("alpha", skill("alpha", "v2", big=300_000))  # cannot be written
    scene.update("beta", skill("beta", "v2"))  # can

    done = home.run("sync", preexec_fn=file_size_limit(200_000))
    no_traceback(done)
    assert "failed Ada Lovelace's Vault / alpha: not installed: File too large" in done.stderr
    assert_sound(home, outside)
    alpha = home.store / "personal--alpha"
    assert complete(alpha) and (alpha / "SKILL.md").read_text().endswith("v1\n")
    assert {k: v for k, v in installed(home).items() if "alpha" in k} == {
        k: v for k, v in old_alpha.items() if "alpha" in k
    }
    assert (home.store / "personal--beta" / "SKILL.md").read_text().endswith("v2\n")
    staging = home.store / ".staging"
    assert not staging.exists() or not os.listdir(staging)  # alpha's partial files are gone

    again = home.run("sync")
    assert again.returncode == 0, again.stderr
    reference = scene.reference()
    assert installed(home) == installed(reference)
    assert_same_lock(home, reference)


@contextlib.contextmanager
def mounted(kind: list[str], where: Path) -> Iterator[None]:
    subprocess.run(["mount", *kind, str(where)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not can_mount(), reason="mounting a tmpfs needs root")
def test_a_full_disk_fails_the_skill_that_does_not_fit_and_nothing_else(scene: Scene) -> None:
    home = scene.home
    place = home.path / ".better-skills"
    place.mkdir()
    with mounted(["-t", "tmpfs", "-o", "size=400k", "tmpfs"], place):
        assert home.run("sync").returncode == 0
        outside = home.outside()
        scene.update("alpha", skill("alpha", "v2", big=400_000))  # does not fit
        scene.update("beta", skill("beta", "v2"))  # fits

        done = home.run("sync")
        no_traceback(done)
        assert (
            "failed Ada Lovelace's Vault / alpha: not installed: No space left on device"
            in done.stderr
        ), done.stderr
        assert_sound(home, outside)
        assert (home.store / "personal--alpha" / "SKILL.md").read_text().endswith("v1\n")
        # The space alpha's partial files took was given back at once: beta and the lock
        # were written.
        assert (home.store / "personal--beta" / "SKILL.md").read_text().endswith("v2\n")
        assert '"remoteUpdatedAt"' in (home.store / "lock.json").read_text()

        subprocess.run(["mount", "-o", "remount,size=4m", str(place)], check=True)
        again = home.run("sync")
        assert again.returncode == 0, again.stderr
        reference = scene.reference()
        assert installed(home) == installed(reference)
        assert_same_lock(home, reference)


def test_a_read_only_store_is_reported_and_left_as_it_was(scene: Scene) -> None:
    home = scene.home
    assert home.run("sync").returncode == 0
    scene.update("beta", skill("beta", "v2"))
    store = home.store
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file() and not p.is_symlink()}
    if can_mount():
        guard = mounted(["--bind", "-o", "ro", str(store)], store)
    else:
        guard = read_only_tree(store)
    with guard:
        if can_mount():  # a bind mount ignores "ro" on some systems until remounted
            subprocess.run(["mount", "-o", "remount,bind,ro", str(store)], check=True)
        done = home.run("sync")
        no_traceback(done)
        assert f"cannot use the skills store at {store}" in done.stderr, done.stderr
        reason = "Read-only file system" if can_mount() else "Permission denied"
        assert reason in done.stderr, done.stderr
        after = {p: p.read_bytes() for p in store.rglob("*") if p.is_file() and not p.is_symlink()}
        assert after == before
    again = home.run("sync")
    assert again.returncode == 0, again.stderr
    assert (store / "personal--beta" / "SKILL.md").read_text().endswith("v2\n")


@contextlib.contextmanager
def read_only_tree(root: Path) -> Iterator[None]:
    paths = [root, *root.rglob("*")]
    modes = {p: p.lstat().st_mode for p in paths if not p.is_symlink()}
    for p, mode in modes.items():
        p.chmod(mode & ~0o222)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
