"""Shared fixtures.

Backends: tests that touch the database run once per backend in ``--backends`` (default
``sqlite,postgres``). PostgreSQL tests create a fresh database and drop it afterwards; if the
server on 127.0.0.1:5432 is unreachable they fail loudly (``--backends sqlite`` to skip them).
Each database a test gets is a copy of one migrated in advance (``@pytest.mark.empty_database``
for an empty one: see tests/support/databases.py).

Everything here is safe under pytest-xdist: temporary folders, free ports and randomly named
PostgreSQL databases are per test, the migrated templates per worker process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.app import open_app
from tests.support.clock import FakeClock
from tests.support.databases import Templates, drain_drops, fresh_database
from tests.support.live_server import LiveServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default="sqlite,postgres",
        help="comma-separated database backends to run database tests on",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each database test once per backend; ``@pytest.mark.backends("postgres")`` narrows
    a test to the backends it is about."""
    if "backend" not in metafunc.fixturenames:
        return
    chosen = [b.strip() for b in metafunc.config.getoption("backends").split(",") if b.strip()]
    marker = metafunc.definition.get_closest_marker("backends")
    wanted = [b for b in chosen if marker is None or b in marker.args]
    params = [
        pytest.param(b, marks=[pytest.mark.postgres] if b == "postgres" else []) for b in wanted
    ]
    if not params:
        params = [pytest.param("none", marks=pytest.mark.skip(reason="backend not selected"))]
    metafunc.parametrize("backend", params)


#: Rough seconds a test costs by what it starts (see the hook below): a server process, a
#: browser, a database of its own, a few device logins on the shared server.
_FIXTURE_COSTS = {
    "live_server": 3.0,
    "server_factory": 3.0,
    "chromium": 2.0,
    "shared_server": 1.5,
    "backend": 0.3,
}


def _guessed_cost(item: pytest.Item) -> float:
    fixtures = set(getattr(item, "fixturenames", ()))
    cost = 0.02 + sum(c for name, c in _FIXTURE_COSTS.items() if name in fixtures)
    if item.get_closest_marker("slow"):
        # A browser test is slow by its browser and server (counted above); the others by a
        # benchmark run or an install of their own: tens of seconds.
        cost += 3.0 if item.get_closest_marker("browser") else 20.0
    return cost


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a pytest-xdist worker: files in the order of their guessed cost, the longest first,
    each file's tests in their own order. ``--dist loadfile`` hands files out in collection
    order (scripts/test passes ``--no-loadscope-reorder``: by default it orders by test count,
    and the few-test files that start servers, browsers and benchmarks came last), so the
    run ends on short files with both workers busy, not on one long file while the other
    worker idles. A run in one process keeps the files' own order."""
    if not hasattr(config, "workerinput"):
        return
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    ordered = sorted(files.values(), key=lambda its: -sum(_guessed_cost(i) for i in its))
    items[:] = [item for group in ordered for item in group]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    templates = Templates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture(scope="session", autouse=True)
def _wait_for_dropped_databases() -> Iterator[None]:
    """Test databases are dropped in the background (tests/support/databases.py); a test
    process waits for the drops before it ends, and fails if one failed."""
    yield
    drain_drops()


@pytest.fixture
def templates(request: pytest.FixtureRequest) -> Templates | None:
    """The migrated templates, or None for a test marked ``empty_database``."""
    if request.node.get_closest_marker("empty_database"):
        return None
    return request.getfixturevalue("database_templates")


@pytest.fixture
def database_url(backend: str, tmp_path: Path, templates: Templates | None) -> Iterator[str]:
    with fresh_database(backend, tmp_path, templates) as url:
        yield url


@pytest.fixture
def server_factory(
    backend: str, tmp_path: Path, templates: Templates | None
) -> Iterator[Callable[..., LiveServer]]:
    """Start real server processes; each call gets a fresh database unless one is given."""
    started: list[LiveServer] = []
    databases: list[Any] = []

    def start(database_url: str | None = None, **env: str) -> LiveServer:
        if database_url is None:
            folder = tmp_path / f"db{len(databases)}"
            folder.mkdir()
            manager = fresh_database(backend, folder, templates)
            database_url = manager.__enter__()
            databases.append(manager)
        folder = tmp_path / f"server{len(started)}"
        folder.mkdir()
        server = LiveServer(database_url, folder, {k: str(v) for k, v in env.items()})
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
    for manager in databases:
        manager.__exit__(None, None, None)


@pytest.fixture
def live_server(server_factory: Callable[..., LiveServer]) -> LiveServer:
    return server_factory(POLL_INTERVAL="1")


#: A shared server's rate limits: high, so that a worker's many sign-ups and approvals from
#: 127.0.0.1 never trip them (tests/server and tests/security test the real limits).
SHARED_SERVER_LIMITS = {
    "RATE_LIMIT_SIGN_UP": "10000/1h",
    "RATE_LIMIT_USER_CODE": "10000/15m",
    "RATE_LIMIT_SIGN_IN": "10000/15m",
    "RATE_LIMIT_DEVICE_CODE": "10000/10m",
}


@pytest.fixture(scope="session")
def _shared_servers(
    tmp_path_factory: pytest.TempPathFactory, database_templates: Templates
) -> Iterator[dict[str, LiveServer]]:
    """One server process per backend for the whole test process, started on first use."""
    with ExitStack() as stack:

        class Pool(dict[str, LiveServer]):
            def __missing__(self, backend: str) -> LiveServer:
                folder = tmp_path_factory.mktemp(f"shared-{backend}")
                url = stack.enter_context(fresh_database(backend, folder, database_templates))
                server = LiveServer(url, folder, {"POLL_INTERVAL": "1", **SHARED_SERVER_LIMITS})
                stack.callback(server.stop)  # before the database goes (last in, first out)
                self[backend] = server.start()
                return server

        yield Pool()


@pytest.fixture
def shared_server(backend: str, _shared_servers: dict[str, LiveServer]) -> LiveServer:
    """A real server process on ``backend`` that other tests of this test process use too,
    so that a test does not pay a server start (seconds) of its own. A test isolates itself by
    its own people (:func:`tests.support.live_cli.unique_email`) and its own folders; it must
    not stop the server or change its settings (``live_server`` is a private one)."""
    server = _shared_servers[backend]
    assert server.process is not None and server.process.poll() is None, server.log()
    return server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings_factory(database_url: str, tmp_path: Path) -> Callable[..., Any]:
    """Server settings for in-process tests, from environment-style overrides."""
    from better_skills.server.settings import load_settings

    def make(**env: str) -> Any:
        base = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "PUBLIC_URL": "http://testserver",
            "XDG_DATA_HOME": str(tmp_path / "data"),
        }
        return load_settings({**base, **{k: str(v) for k, v in env.items()}}, tmp_path / ".env")

    return make


@pytest.fixture
def app_client(settings_factory: Callable[..., Any], clock: FakeClock) -> Callable[..., Any]:
    """``async with app_client(ip, **env) as client``: an httpx client wired to the real
    application in this process (``client.app``), with the fake clock and cheap hashing
    (tests/support/app.py). An unhandled exception is raised into the test."""

    @asynccontextmanager
    async def open_client(ip: str = "127.0.0.1", **env: str) -> AsyncIterator[Any]:
        async with open_app(settings_factory(**env), clock) as app, app.client(ip) as client:
            yield client

    return open_client
