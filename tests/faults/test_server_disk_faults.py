"""The server's SQLite database on a full disk: the write that does not fit is a 503 in the
documented error shape (never a 500 with a traceback), nothing of it is stored, the server
keeps serving, and writes that fit still succeed."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from better_skills.protocol.device_flow import CLIENT_ID, DEVICE_CODE_GRANT_TYPE, Paths
from tests.faults.conftest import REPO
from tests.faults.support import account_token, query
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.backends("sqlite")
LIMIT = 4 * 1024 * 1024


@pytest.fixture
def limited_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    folder = tmp_path / "limited"
    folder.mkdir()
    server = LiveServer(
        database_url, folder, {"BS_FAULT_FSIZE": str(LIMIT), "PYTHONPATH": str(REPO)}
    )
    server.command = [sys.executable, "-m", "tests.faults.limited_server"]
    try:
        yield server.start()
    finally:
        server.stop()


def files(name: str, big: int = 0) -> list[dict[str, str]]:
    out = [{"path": "SKILL.md", "content": f"---\nname: {name}\ndescription: {name}.\n---\n"}]
    out += [{"path": f"big/{i}.md", "content": f"{i}" * 900_000} for i in range(big)]
    return out


def test_a_full_disk_under_sqlite_is_a_503_and_stores_nothing(
    limited_server: LiveServer, backend: str
) -> None:
    server = limited_server
    api = httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {account_token(server)}"},
        timeout=60,
    )
    assert api.post("/api/v1/skills", json={"files": files("small")}).status_code == 201
    before = query(server.database_url, "SELECT COUNT(*) FROM skills")

    full = api.post("/api/v1/skills", json={"files": files("huge", big=6)})
    assert full.status_code == 503, (full.status_code, full.text)
    body = full.json()
    assert body["error"] == "temporarily_unavailable" and body["error_description"], body
    assert int(full.headers["retry-after"]) > 0
    assert "Traceback" not in full.text and "sqlite" not in full.text.lower()

    assert query(server.database_url, "SELECT COUNT(*) FROM skills") == before
    assert query(server.database_url, "PRAGMA integrity_check") == [("ok",)]
    assert server.process is not None and server.process.poll() is None
    assert api.post("/api/v1/skills", json={"files": files("after")}).status_code == 201
    assert api.get("/api/v1/skills").status_code == 200
    api.close()
    assert "Traceback" not in server.log()


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


def fill(folder: Path) -> Path:
    """Fill the filesystem of ``folder`` to the last byte; the filler file's path."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


def unavailable_or_ok(response: httpx.Response) -> bool:
    """True for a 503 in the documented shape; False for a success; fails on anything else."""
    if response.status_code < 300:
        return False
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.json()["error"] == "temporarily_unavailable", response.text
    assert int(response.headers["retry-after"]) > 0
    return True


@pytest.mark.skipif(not can_mount(), reason="mounting a tmpfs needs root")
def test_a_really_full_disk_under_sqlite_is_a_503_everywhere(backend: str, tmp_path: Path) -> None:
    """A tmpfs of 3 MiB filled to the last byte under the running server: every write either
    fits (SQLite reuses the space its WAL already has) or is a 503, including the hot paths
    that write through the driver directly (device codes, polls)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], check=True)
    server = LiveServer(f"sqlite:///{disk / 'better-skills.db'}", tmp_path, {"POLL_INTERVAL": "1"})
    try:
        server.start(timeout=120)
        api = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {account_token(server)}"},
            timeout=60,
        )
        code = httpx.post(server.url + Paths.DEVICE_CODE, json={"client_id": CLIENT_ID}).json()
        filler = fill(disk)
        refused = 0
        for _ in range(3):
            refused += unavailable_or_ok(
                api.post("/api/v1/skills", json={"files": files("huge", big=2)})
            )
            refused += unavailable_or_ok(
                httpx.post(server.url + Paths.DEVICE_CODE, json={"client_id": CLIENT_ID})
            )
            poll = httpx.post(
                server.url + Paths.DEVICE_TOKEN,
                data={
                    "grant_type": DEVICE_CODE_GRANT_TYPE,
                    "device_code": code["device_code"],
                    "client_id": CLIENT_ID,
                },
            )
            if poll.status_code != 400:  # authorization_pending/slow_down: nothing written
                refused += unavailable_or_ok(poll)
        assert refused >= 3  # the big skill never fits
        assert server.process is not None and server.process.poll() is None

        filler.unlink()
        assert api.post("/api/v1/skills", json={"files": files("after")}).status_code == 201
        assert query(server.database_url, "PRAGMA integrity_check") == [("ok",)]
        assert "Traceback" not in server.log(), server.log()
        api.close()
    finally:
        server.stop()
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_read_only_sqlite_database_stops_the_start_with_one_line(tmp_path: Path) -> None:
    """A database the server cannot write (a read-only mount as root, a read-only folder and
    file otherwise): the server does not start half-way; it exits 1 (README: "the database
    cannot be opened or migrated") with one line saying so, no traceback."""
    folder = tmp_path / "db"
    folder.mkdir()
    server = LiveServer(f"sqlite:///{folder / 'better-skills.db'}", tmp_path, {})
    server.start(timeout=120)
    server.stop()
    if can_mount():
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
    else:
        for path in folder.iterdir():
            path.chmod(0o400)
        folder.chmod(0o500)
    try:
        with pytest.raises(RuntimeError, match="exited early"):
            server.start(timeout=120)
        assert server.process is not None and server.process.wait(10) == 1
        last = server.log().strip().splitlines()[-1]
        assert last.startswith("better-skills-server: cannot prepare the database at "), last
        assert "Traceback" not in server.log()
    finally:
        if can_mount():
            subprocess.run(["umount", "-l", str(folder)], check=False)
        else:
            folder.chmod(0o700)
