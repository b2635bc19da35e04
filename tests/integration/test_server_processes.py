"""Real server processes: the redemption race, replicas sharing PostgreSQL, restarts."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.flow import PASSWORD, issue_at, poll_at
from tests.support.live_server import LiveServer


def test_simultaneous_polls_redeem_once(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(POLL_INTERVAL="1", WORKERS="2")
    code = issue_at(server.url)
    person = server.browser()
    person.sign_up("Ada", "ada@example.com", PASSWORD)
    person.approve(code["user_code"])
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: poll_at(server.url, code["device_code"]), range(16)))
    assert sum(a.status_code == 200 for a in answers) == 1
    assert {a.json()["error"] for a in answers if a.status_code != 200} <= {
        "invalid_grant",
        "slow_down",
    }


@pytest.mark.empty_database  # the migrations run at this start
def test_with_workers_the_supervisor_stays_small(server_factory: Callable[..., LiveServer]) -> None:
    """The migration runs in a child process: uvicorn's supervisor, which never serves a
    request, must not carry SQLAlchemy, the app and Alembic (about 50 MiB) for its lifetime."""
    server = server_factory(WORKERS="2")
    assert server.process is not None
    with server.client() as client:
        assert client.get("/api/health").json()["database"] == "ok"
    pid = server.process.pid
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert "sqlalchemy" not in maps and "pydantic_core" not in maps
    # Relative, not in MiB: a worker (which carries the app) on this same machine, interpreter
    # and allocator is the yardstick. Measured: the supervisor about 27 MiB, a worker about
    # 105 MiB (ratio 0.26); a supervisor that imported the app too would be near 0.75.
    workers = [
        int(child)
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if "multiprocessing.spawn" in Path(f"/proc/{child}/cmdline").read_text()
    ]
    assert len(workers) == 2, workers
    supervisor = rss_kib(pid)
    smallest_worker = min(rss_kib(worker) for worker in workers)
    assert supervisor < smallest_worker / 2, (supervisor, smallest_worker)


def rss_kib(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])


def test_pending_login_survives_a_server_kill(server_factory: Callable[..., LiveServer]) -> None:
    server = server_factory(POLL_INTERVAL="1")
    code = issue_at(server.url)
    server.kill()
    server.start()
    person = server.browser()
    person.sign_up("Ada", "ada@example.com", PASSWORD)
    person.approve(code["user_code"])
    time.sleep(1)
    assert poll_at(server.url, code["device_code"]).status_code == 200


@pytest.mark.backends("postgres")
def test_replicas_share_codes_sessions_and_limits(
    server_factory: Callable[..., LiveServer], database_url: str
) -> None:
    first = server_factory(database_url, POLL_INTERVAL="1", RATE_LIMIT_USER_CODE="6/15m")
    second = server_factory(database_url, POLL_INTERVAL="1", RATE_LIMIT_USER_CODE="6/15m")

    code = issue_at(first.url)
    person = second.browser()
    person.sign_up("Ada", "ada@example.com", PASSWORD)
    person.approve(code["user_code"])
    token = poll_at(first.url, code["device_code"]).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(second.url + "/api/auth/get-session", headers=auth).json() is not None

    httpx.post(first.url + "/api/auth/sign-out", headers=auth).raise_for_status()
    assert httpx.get(second.url + "/api/auth/get-session", headers=auth).json() is None

    statuses = []
    for server in (first, second, first, second, first, second, first):
        response = httpx.get(server.url + "/api/auth/device", params={"user_code": "BCDFBCDF"})
        statuses.append(response.status_code)
    assert statuses == [400] * 6 + [429]
