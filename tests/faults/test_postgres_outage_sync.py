"""PostgreSQL going away during ``better-skills sync``: the server runs against PostgreSQL
through a TCP proxy the test controls (never by stopping the shared cluster).

- Down before the sync: the manifest request gets a 503; the CLI says the server cannot
  answer right now, exits 1, prints no traceback, and writes nothing.
- Down in the middle: the proxy cuts the database off at the moment PostgreSQL sends the
  bundle's file contents (a tripwire in the bytes, so the cut lands there every time); the
  skills not fetched are reported as failed, exit 1, the store stays sound.
- Back again: the next sync completes, and the home equals one synced without an outage.
"""

from __future__ import annotations

import contextlib
import select
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.support import account_token
from tests.faults.test_cli_kill_loop import Home, assert_same_lock, assert_sound, installed
from tests.security.tcp_proxy import TcpProxy
from tests.support.live_server import LiveServer

TRIPWIRE = b"cut-the-database-here"


class TripwireProxy(TcpProxy):
    """Cuts the database off when PostgreSQL sends bytes holding ``tripwire`` (once armed)."""

    def __init__(self) -> None:
        super().__init__()
        self.tripwire: bytes | None = None
        self.tripped = 0

    def _pump(self, a, b) -> None:  # type: ignore[no-untyped-def]
        peers = {a: b, b: a}
        try:
            while not self._stopped.is_set():
                readable, _, _ = select.select([a, b], [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is b and self.tripwire is not None and self.tripwire in data:
                        self.tripwire = None
                        self.tripped += 1
                        self.cut()  # PostgreSQL is gone before these bytes arrive
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


@pytest.fixture
def proxy() -> Iterator[TripwireProxy]:
    running = TripwireProxy()
    running.start()
    yield running
    running.stop()


def healthy(server: LiveServer) -> None:
    for _ in range(200):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/api/health", timeout=5).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError("the server did not recover")


def clear_failure(done: subprocess.CompletedProcess[str]) -> None:
    """Exit 1 with one readable line per failure: what happened, no traceback."""
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "asyncpg" not in done.stderr, done.stderr
    assert "HTTP 503: The service is temporarily unavailable." in done.stderr, done.stderr
    assert ".." not in done.stderr, done.stderr


@pytest.mark.backends("postgres")
def test_postgres_going_away_during_a_sync(
    server_factory: Callable[..., LiveServer],
    database_url: str,
    proxy: TripwireProxy,
    tmp_path: Path,
) -> None:
    server = server_factory(proxy.rewrite(database_url))
    token = account_token(server)
    api = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    for i in range(6):
        body = f"---\nname: skill-{i}\ndescription: Skill {i}.\n---\n"
        body += TRIPWIRE.decode() if i == 3 else f"body {i}\n"
        files = [{"path": "SKILL.md", "content": body}, {"path": "a.md", "content": "a\n"}]
        assert api.post("/api/v1/skills", json={"files": files}).status_code == 201
    api.close()
    home = Home(tmp_path / "home", server, token)
    outside = home.outside()

    # Down before the sync starts.
    proxy.cut()
    down = home.run("sync")
    clear_failure(down)
    assert not home.store.exists() or not (home.store / "lock.json").exists()
    assert home.outside() == outside
    proxy.restore()
    healthy(server)

    # Down in the middle: after the manifest, while the bundle's files are on their way.
    proxy.tripwire = TRIPWIRE
    cut = home.run("sync")
    assert proxy.tripped == 1
    clear_failure(cut)
    assert "failed Ada Lovelace's Vault / skill-3: " in cut.stderr, cut.stderr
    assert_sound(home, outside)

    # Back: the next sync completes, as if there had been no outage.
    proxy.restore()
    healthy(server)
    again = home.run("sync")
    assert again.returncode == 0, again.stderr
    reference = Home(tmp_path / "reference", server, token)
    assert reference.run("sync").returncode == 0
    assert installed(home) == installed(reference)
    assert_same_lock(home, reference)
