"""Server throughput benchmark: start ``better-skills-server`` on loopback, load it, print a table.

    .venv/bin/python benchmarks/run.py [--duration 10] [--backends sqlite,postgres] [--workers N]

For each backend it starts the server as production would run it (``better-skills-server``:
uvicorn, uvloop, httptools, ``WORKERS`` processes) on a free loopback port with a fresh
database, and with the abuse limits *raised* (not switched off) through their settings. It
prepares data over HTTP (a signed-up user, a bearer token from a full device login, a code to
poll too fast) and straight in the database (codes to poll, and the big-data case: 1,000,000
sessions and 100,000 pending device codes, hashed with the server's own ``Hasher`` and key).
Then a second process (``wrk``, else ``benchmarks/loadgen.py``) loads each endpoint for
``--duration`` seconds with 2 threads and 32 connections, and the table shows requests per
second, p50/p99 latency, the share of expected answers, and the server's memory.

Loopback only, bounded in time; PostgreSQL databases it creates are dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from better_skills.protocol.device_flow import (
    CLIENT_ID,
    DEFAULT_SCOPE,
    DEVICE_CODE_GRANT_TYPE,
    USER_CODE_ALPHABET,
    USER_CODE_LENGTH,
    Paths,
)
from better_skills.server.security import Hasher

HERE = Path(__file__).resolve().parent
WRK_SCRIPT = HERE / "wrk" / "bench.lua"
LOADGEN = HERE / "loadgen.py"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

#: Limits raised so that one loopback address may hammer every endpoint; they stay *on*, so
#: each request still pays for its counter (one upsert per issued code).
RAISED_LIMITS = {
    "RATE_LIMIT_DEVICE_CODE": "1000000000/1m",
    "RATE_LIMIT_USER_CODE": "1000000000/1m",
    "RATE_LIMIT_SIGN_IN": "1000000000/1m",
    "RATE_LIMIT_WRITES": "1000000000/1m",
}
#: The shortest interval the server allows, so the pending-path codes can be polled once a
#: second each without earning slow_down.
POLL_INTERVAL = "1"

TARGETS = {"get-session": 1500, "device-code": 900, "token-slow-down": 2000, "token-pending": 2000}
P99_TARGET_MS = 50.0
BIG_RATIO_TARGET = 0.80
#: better-auth 1.7 on Node 20 with SQLite, same machine and wrk settings (from the issue).
BETTER_AUTH = {
    "get-session": 750,
    "device-code": 440,
    "token-slow-down": 1080,
    "token-pending": 1080,
}

SCENARIOS = {
    "get-session": ("GET", Paths.GET_SESSION, "GET /api/auth/get-session (Bearer)"),
    "device-code": ("POST", Paths.DEVICE_CODE, "POST /api/auth/device/code"),
    "token-slow-down": ("POST", Paths.DEVICE_TOKEN, "POST /device/token, slow_down (1 code)"),
    "token-pending": ("POST", Paths.DEVICE_TOKEN, "POST /device/token, pending (N codes)"),
    "get-session-big": (
        "GET",
        Paths.GET_SESSION,
        "get-session, {sessions} sessions + {codes} codes",
    ),
}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- The server process ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command() -> list[str]:
    found = shutil.which("better-skills-server", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "better_skills.server.main"]


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc (uvicorn's workers are its children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each of ``pids`` so far (their own, not their children's)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots; processes born in between count in full."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


def postgres_backends(database_url: str) -> list[int]:
    """Process ids of the PostgreSQL backends serving ``database_url`` (same machine)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchall()
    return [row[0] for row in rows]


class Server:
    def __init__(
        self,
        database_url: str,
        folder: Path,
        workers: int,
        src: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(32)
        self.folder = folder
        self.log_path = folder / "server.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            "SECRET_KEY": self.secret,
            "WORKERS": str(workers),
            "POLL_INTERVAL": POLL_INTERVAL,
            "XDG_DATA_HOME": str(folder / "data"),
            **RAISED_LIMITS,
        }
        self.env.update(extra_env or {})
        if src is not None:  # another checkout's server, e.g. to compare a change
            self.env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(src.resolve()), os.environ.get("PYTHONPATH")])
            )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                server_command(), env=self.env, cwd=self.folder, stdout=out, stderr=out
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + Paths.HEALTH, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not become healthy:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        return process_tree(self.process.pid) if self.process else []

    def rss_mib(self) -> tuple[float, int]:
        """(RSS summed over the supervisor and its workers in MiB, number of processes)."""
        pids = self.pids()
        return sum(rss_kib(p) for p in pids) / 1024, len(pids)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                for pid in reversed(self.pids()):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class RssSampler:
    """Peak RSS of the server's process tree, sampled in the background while it is loaded."""

    def __init__(self, server: Server, every: float = 0.25) -> None:
        self.server, self.every = server, every
        self.peak, self.processes = 0.0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            rss, count = self.server.rss_mib()
            if rss > self.peak:
                self.peak, self.processes = rss, count

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- Databases ------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A DATABASE_URL of an empty database; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    import psycopg

    name = f"bs_bench_{secrets.token_hex(5)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def now_ms() -> int:
    return int(time.time() * 1000)


def user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


DEVICE_COLUMNS = (
    "id",
    "device_code_hash",
    "user_code_hash",
    "client_id",
    "scope",
    "status",
    "created_at",
    "expires_at",
    "poll_interval",
    "polled_too_fast",
    "ip_address",
    "user_agent",
)
SESSION_COLUMNS = (
    "id",
    "token_hash",
    "user_id",
    "kind",
    "client_id",
    "scope",
    "created_at",
    "updated_at",
    "last_used_at",
    "expires_at",
    "ip_address",
    "user_agent",
)
USER_COLUMNS = ("id", "name", "email", "email_verified", "created_at", "updated_at")


def device_rows(
    hasher: Hasher, count: int, *, keep_codes: bool, taken: set[str]
) -> tuple[list[str], list[tuple]]:
    """Pending device codes as the server would store them; with ``keep_codes`` the plain
    codes too (to poll them). User codes are unique: none repeats, and none hashes to one of
    ``taken`` (the hashes already in the table; 100,000 draws among 20**8 codes would meet one
    of the codes the load issued about once in seven runs)."""
    now = now_ms()
    plain: list[str] = []
    rows: list[tuple] = []
    seen: set[str] = set()
    while len(rows) < count:
        code = user_code()
        if code in seen:
            continue
        seen.add(code)
        if hasher.user_code(code) in taken:
            continue
        device_code = secrets.token_urlsafe(32)
        if keep_codes:
            plain.append(device_code)
        rows.append(
            (
                secrets.token_urlsafe(16),
                hasher.device_code(device_code),
                hasher.user_code(code),
                CLIENT_ID,
                DEFAULT_SCOPE,
                "pending",
                now,
                now + 30 * 60 * 1000,
                int(POLL_INTERVAL),
                False,
                "127.0.0.1",
                "better-skills-bench",
            )
        )
    return plain, rows


def user_rows(count: int) -> list[tuple]:
    now = now_ms()
    return [
        (f"benchuser{i:07d}", f"Bench User {i}", f"bench{i}@example.com", False, now, now)
        for i in range(count)
    ]


def session_rows(hasher: Hasher, start: int, count: int, users: int) -> list[tuple]:
    """Live device sessions spread over ``users`` users; their tokens are thrown away."""
    now = now_ms()
    ttl = 8 * 3600 * 1000
    return [
        (
            secrets.token_urlsafe(16),
            hasher.session_token(secrets.token_urlsafe(32)),
            f"benchuser{i % users:07d}",
            "device",
            CLIENT_ID,
            DEFAULT_SCOPE,
            now,
            now,
            now,
            now + ttl - (i % 3600) * 1000,
            "127.0.0.1",
            "better-skills-bench",
        )
        for i in range(start, start + count)
    ]


class Seeder:
    """Bulk inserts straight into the server's tables (executemany for SQLite, COPY for
    PostgreSQL), in batches so memory stays small."""

    BATCH = 100_000

    def __init__(self, backend: str, database_url: str, hasher: Hasher) -> None:
        self.backend, self.database_url, self.hasher = backend, database_url, hasher

    def insert(self, table: str, columns: tuple[str, ...], batches: Iterator[list[tuple]]) -> None:
        if self.backend == "sqlite":
            self._sqlite(table, columns, batches)
        else:
            asyncio.run(self._postgres(table, columns, batches))

    def _sqlite(self, table: str, columns: tuple[str, ...], batches: Iterator[list[tuple]]) -> None:
        path = self.database_url.split(":///", 1)[1]
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            marks = ", ".join("?" * len(columns))
            # Table and column names are this module's constants, never input.
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            for batch in batches:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, batch)
                conn.execute("COMMIT")
        finally:
            conn.close()

    async def _postgres(
        self, table: str, columns: tuple[str, ...], batches: Iterator[list[tuple]]
    ) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.database_url)
        try:
            for batch in batches:
                await conn.copy_records_to_table(table, records=batch, columns=list(columns))
        finally:
            await conn.close()

    def taken_user_codes(self) -> set[str]:
        sql = "SELECT user_code_hash FROM device_codes"
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.database_url.split(":///", 1)[1], timeout=30)
            try:
                return {row[0] for row in conn.execute(sql)}
            finally:
                conn.close()

        async def run() -> set[str]:
            import asyncpg

            conn = await asyncpg.connect(self.database_url)
            try:
                return {row[0] for row in await conn.fetch(sql)}
            finally:
                await conn.close()

        return asyncio.run(run())

    def pending_codes(self, count: int) -> list[str]:
        plain, rows = device_rows(
            self.hasher, count, keep_codes=True, taken=self.taken_user_codes()
        )
        self.insert("device_codes", DEVICE_COLUMNS, iter([rows]))
        return plain

    def big(self, sessions: int, codes: int, users: int) -> float:
        started = time.monotonic()
        self.insert("users", USER_COLUMNS, iter([user_rows(users)]))

        def session_batches() -> Iterator[list[tuple]]:
            for start in range(0, sessions, self.BATCH):
                yield session_rows(self.hasher, start, min(self.BATCH, sessions - start), users)

        self.insert("sessions", SESSION_COLUMNS, session_batches())
        self.insert(
            "device_codes",
            DEVICE_COLUMNS,
            iter(
                [
                    device_rows(
                        self.hasher, codes, keep_codes=False, taken=self.taken_user_codes()
                    )[1]
                ]
            ),
        )
        return time.monotonic() - started

    def settle(self) -> None:
        """Bring the database to the steady state a live one is in, as its own upkeep would:
        PostgreSQL's autovacuum would soon vacuum and analyse the bulk-loaded tables (and
        would otherwise do it in the middle of the measurement), and SQLite's WAL would have
        been checkpointed (and so would PostgreSQL's, after a gigabyte of WAL)."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.database_url.split(":///", 1)[1], timeout=30)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
            return

        async def run() -> None:
            import asyncpg

            conn = await asyncpg.connect(self.database_url)
            try:
                await conn.execute("VACUUM (ANALYZE) users, sessions, device_codes")
                # Write the bulk load's dirty pages now, not during the measurement.
                await conn.execute("CHECKPOINT")
            finally:
                await conn.close()

        asyncio.run(run())

    def count(self, table: str) -> int:
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.database_url.split(":///", 1)[1], timeout=30)
            try:
                return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            finally:
                conn.close()

        async def run() -> int:
            import asyncpg

            conn = await asyncpg.connect(self.database_url)
            try:
                return await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            finally:
                await conn.close()

        return asyncio.run(run())


# -- Preparing over HTTP --------------------------------------------------------------------


@dataclass
class Prepared:
    bearer: str
    slow_down_code: str
    pending_codes_file: Path
    #: Polls each load thread has made so far: the next run starts after them.
    pending_polls_per_thread: int = 0


def device_login(server: Server) -> str:
    """A whole device login over HTTP: sign up, request a code, claim and approve it in the
    "browser", redeem it. Returns the bearer token the CLI would keep."""
    with (
        httpx.Client(base_url=server.url, timeout=30) as cli,
        httpx.Client(base_url=server.url, timeout=30, headers={"Origin": server.url}) as web,
    ):
        email = f"bench-{secrets.token_hex(4)}@example.com"
        web.post(
            Paths.SIGN_UP_EMAIL,
            json={"name": "Bench User", "email": email, "password": secrets.token_urlsafe(16)},
        ).raise_for_status()
        issued = cli.post(Paths.DEVICE_CODE, json={"client_id": CLIENT_ID, "scope": DEFAULT_SCOPE})
        issued.raise_for_status()
        code = issued.json()
        web.get(Paths.DEVICE_VERIFY, params={"user_code": code["user_code"]}).raise_for_status()
        web.post(Paths.DEVICE_APPROVE, json={"userCode": code["user_code"]}).raise_for_status()
        token = cli.post(
            Paths.DEVICE_TOKEN,
            json={
                "grant_type": DEVICE_CODE_GRANT_TYPE,
                "device_code": code["device_code"],
                "client_id": CLIENT_ID,
            },
        )
        token.raise_for_status()
        bearer = token.json()["access_token"]
        check = cli.get(Paths.GET_SESSION, headers={"Authorization": f"Bearer {bearer}"})
        if check.status_code != 200 or not check.json():
            raise RuntimeError(f"the new token does not authenticate: {check.text[:200]}")
        return bearer


def new_code(server: Server) -> str:
    issued = httpx.post(
        server.url + Paths.DEVICE_CODE, json={"client_id": CLIENT_ID, "scope": DEFAULT_SCOPE}
    )
    issued.raise_for_status()
    return issued.json()["device_code"]


def poll_once(server: Server, device_code: str) -> str:
    answer = httpx.post(
        server.url + Paths.DEVICE_TOKEN,
        json={
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": device_code,
            "client_id": CLIENT_ID,
        },
    )
    return answer.json().get("error", "") if answer.status_code == 400 else str(answer.status_code)


# -- Load -----------------------------------------------------------------------------------


@dataclass
class Options:
    duration: float
    warmup: float
    threads: int
    connections: int
    loadgen: str  # "wrk" or "python"
    profile_dir: Path | None


def load_args(mode: str, prepared: Prepared, threads: int) -> list[str]:
    if mode.startswith("get-session"):
        return ["get-session", prepared.bearer]
    if mode == "device-code":
        return ["device-code"]
    if mode == "token-slow-down":
        return ["token-slow-down", prepared.slow_down_code]
    return [
        "token-pending",
        str(prepared.pending_codes_file),
        str(threads),
        str(prepared.pending_polls_per_thread),
    ]


def run_load(url: str, args: list[str], duration: float, options: Options) -> dict[str, Any]:
    if options.loadgen == "wrk":
        seconds = max(1, round(duration))
        command = [
            "wrk",
            f"-t{options.threads}",
            f"-c{options.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            url,
            "--",
            *args,
        ]
    else:
        command = [
            sys.executable,
            str(LOADGEN),
            "--url",
            url,
            "--duration",
            str(duration),
            "--threads",
            str(options.threads),
            "--connections",
            str(options.connections),
            "--",  # a token may start with "-": never read it as an option
            *args,
        ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"{command[0]} gave no result:\n{done.stdout}\n{done.stderr}")


@dataclass
class Result:
    backend: str
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    ok_share: float
    socket_errors: int
    rss_peak_mib: float
    server_cpu_us: float = 0.0
    database_cpu_us: float = 0.0
    label: str = ""
    first_unexpected: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def measure(
    server: Server,
    backend: str,
    scenario: str,
    prepared: Prepared,
    options: Options,
    **label_fields: str,
) -> Result:
    _method, path, label = SCENARIOS[scenario]
    label = label.format(**label_fields)
    url = server.url + path

    def load(duration: float) -> dict[str, Any]:
        raw = run_load(url, load_args(scenario, prepared, options.threads), duration, options)
        if scenario == "token-pending":  # the busiest thread's count, and a margin
            prepared.pending_polls_per_thread += raw.get("max_thread_requests", 0) + 64
        return raw

    if options.warmup > 0:
        load(options.warmup)
    profiler = None
    if options.profile_dir is not None:
        options.profile_dir.mkdir(parents=True, exist_ok=True)
        out = options.profile_dir / f"{backend}-{scenario}"
        profiler = subprocess.Popen(
            [
                shutil.which("py-spy", path=str(Path(sys.executable).parent))
                or shutil.which("py-spy")
                or "py-spy",
                "record",
                "--pid",
                str(server.process.pid if server.process else 0),
                "--subprocesses",
                "--rate",
                "250",
                "--duration",
                str(max(1, round(options.duration))),
                "--format",
                "raw",
                "--output",
                f"{out}.txt",
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def database_pids() -> list[int]:
        if backend != "postgres":
            return []
        return postgres_backends(server.env["DATABASE_URL"])

    cpu_before = cpu_seconds(server.pids()), cpu_seconds(database_pids())
    with RssSampler(server) as sampler:
        raw = load(options.duration)
    cpu_after = cpu_seconds(server.pids()), cpu_seconds(database_pids())
    requests = max(1, raw["requests"])
    if profiler is not None:
        profiler.wait(60)
    seconds = raw["duration_us"] / 1e6
    answered = raw["ok"] + raw["unexpected"]
    result = Result(
        backend=backend,
        scenario=scenario,
        rps=raw["requests"] / seconds if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        requests=raw["requests"],
        ok_share=raw["ok"] / answered if answered else 0.0,
        socket_errors=raw["socket_errors"] + raw["timeouts"],
        rss_peak_mib=sampler.peak,
        server_cpu_us=cpu_spent(cpu_before[0], cpu_after[0]) * 1e6 / requests,
        database_cpu_us=cpu_spent(cpu_before[1], cpu_after[1]) * 1e6 / requests,
        label=label,
        first_unexpected=raw.get("first_unexpected", ""),
    )
    log(
        f"{backend} {label}: {result.rps:,.0f} rps, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, {result.ok_share:.1%} expected answers, "
        f"CPU per request: server {result.server_cpu_us:.0f} us"
        + (f", PostgreSQL {result.database_cpu_us:.0f} us" if backend == "postgres" else "")
        + (f" (first other: {result.first_unexpected[:120]})" if result.ok_share < 1 else "")
    )
    if scenario == "token-pending" and result.ok_share < 0.99:
        log("some codes were polled twice within the interval: raise --pending-codes")
    return result


def short_count(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


# -- One backend ----------------------------------------------------------------------------


@dataclass
class BackendReport:
    backend: str
    results: list[Result]
    rss_idle_mib: float
    rss_idle_big_mib: float
    processes: int
    seed_seconds: float
    pending_codes: int
    big_rows: dict[str, int]


def bench_backend(backend: str, args: argparse.Namespace, options: Options) -> BackendReport:
    with (
        tempfile.TemporaryDirectory(prefix=f"bs-bench-{backend}-") as tmp,
        fresh_database(backend, Path(tmp)) as database_url,
    ):
        folder = Path(tmp)
        extra = dict(item.split("=", 1) for item in args.server_env)
        server = Server(database_url, folder, args.workers, args.src, extra)
        log(f"{backend}: starting better-skills-server on {server.url}, WORKERS={args.workers}")
        server.start()
        try:
            hasher = Hasher(server.secret.encode())
            seeder = Seeder(backend, server.env["DATABASE_URL"], hasher)
            bearer = device_login(server)
            slow_code = new_code(server)
            codes = seeder.pending_codes(args.pending_codes)
            codes_file = folder / "pending-codes.txt"
            codes_file.write_text("\n".join(codes) + "\n")
            answer = poll_once(server, codes[0])
            if answer != "authorization_pending":
                raise RuntimeError(f"a seeded code answers {answer!r}, not authorization_pending")
            prepared = Prepared(bearer, slow_code, codes_file)
            time.sleep(1)
            rss_idle, processes = server.rss_mib()
            results = [
                measure(server, backend, scenario, prepared, options)
                for scenario in ("get-session", "device-code", "token-slow-down", "token-pending")
                if scenario in args.scenarios
            ]
            seconds, big_rows, rss_idle_big = 0.0, {}, 0.0
            if "get-session-big" not in args.scenarios:
                return BackendReport(
                    backend, results, rss_idle, rss_idle_big, processes, seconds, len(codes), {}
                )
            log(
                f"{backend}: inserting {args.big_sessions:,} sessions and "
                f"{args.big_codes:,} pending codes with SQL"
            )
            seconds = seeder.big(args.big_sessions, args.big_codes, args.big_users)
            big_rows = {t: seeder.count(t) for t in ("users", "sessions", "device_codes")}
            log(f"{backend}: seeded in {seconds:.1f} s; rows now {big_rows}")
            started = time.monotonic()
            seeder.settle()
            log(
                f"{backend}: settled in {time.monotonic() - started:.1f} s "
                + ("(WAL checkpoint)" if backend == "sqlite" else "(VACUUM ANALYZE)")
            )
            time.sleep(1)
            rss_idle_big, _ = server.rss_mib()
            results.append(
                measure(
                    server,
                    backend,
                    "get-session-big",
                    prepared,
                    options,
                    sessions=short_count(args.big_sessions),
                    codes=short_count(args.big_codes),
                )
            )
        except Exception:
            log(f"{backend}: failed; server log tail:\n{server.log_tail()}")
            raise
        finally:
            server.stop()
    return BackendReport(
        backend, results, rss_idle, rss_idle_big, processes, seconds, len(codes), big_rows
    )


# -- The table ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def table(reports: list[BackendReport]) -> str:
    header = (
        f"{'backend':<9}{'scenario':<42}{'rps':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'expected':>9}{'CPU us/req':>12}{'RSS MiB':>8}  target"
    )
    lines = [header, "-" * (len(header) + 34)]
    for report in reports:
        by_name = {r.scenario: r for r in report.results}
        for r in report.results:
            if r.scenario == "get-session-big":
                base = by_name["get-session"].rps if "get-session" in by_name else 0.0
                ratio = r.rps / base if base else 0.0
                target = (
                    f"{ratio:.2f}x of near-empty, >= {BIG_RATIO_TARGET:.2f}x "
                    + verdict(ratio >= BIG_RATIO_TARGET)
                    + f"; p99 < {P99_TARGET_MS:.0f} ms "
                    + verdict(r.p99_ms < P99_TARGET_MS)
                )
            else:
                goal = TARGETS[r.scenario]
                target = (
                    f">= {goal} rps "
                    + verdict(r.rps >= goal)
                    + f"; p99 < {P99_TARGET_MS:.0f} ms "
                    + verdict(r.p99_ms < P99_TARGET_MS)
                )
            if r.socket_errors:
                target += f" ({r.socket_errors} socket errors)"
            cpu = f"{r.server_cpu_us:.0f}"
            if r.backend == "postgres":
                cpu += f"+{r.database_cpu_us:.0f}"
            lines.append(
                f"{r.backend:<9}{r.label:<42}{r.rps:>8,.0f}{r.p50_ms:>8.1f}{r.p99_ms:>8.1f}"
                f"{r.ok_share:>9.1%}{cpu:>12}{r.rss_peak_mib:>8.0f}  {target}"
            )
        peak = max((r.rss_peak_mib for r in report.results), default=0.0)
        idle = f"idle {report.rss_idle_mib:.0f} MiB"
        if report.big_rows:
            idle += f", idle with big data {report.rss_idle_big_mib:.0f} MiB"
        lines.append(
            f"{report.backend:<9}{'server RSS: peak under load':<42}{'':>45}{peak:>8.0f}  "
            f"{idle}; {report.processes} processes summed"
        )
    lines.append(
        "CPU us/req: CPU time of the server's processes (+ its PostgreSQL backends) per request."
    )
    return "\n".join(lines)


def environment(args: argparse.Namespace, options: Options) -> list[str]:
    if options.loadgen == "wrk":
        version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
        generator = version.split(" Copyright")[0].strip() or "wrk"
    else:
        generator = "benchmarks/loadgen.py (asyncio; wrk not found or not chosen)"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at the end {load:.1f}",
        f"load: {generator}, {options.threads} threads, {options.connections} connections, "
        f"{options.duration:g} s per scenario after {options.warmup:g} s warm-up, loopback",
        f"server: better-skills-server, WORKERS={args.workers}, POLL_INTERVAL={POLL_INTERVAL}; "
        "rate limits raised (still on): "
        + ", ".join(f"{k}={v}" for k, v in RAISED_LIMITS.items())
        + (f"; overridden: {', '.join(args.server_env)}" if args.server_env else ""),
        f"data: pending-path codes {args.pending_codes:,}; big case {args.big_sessions:,} "
        f"sessions over {args.big_users:,} users + {args.big_codes:,} pending codes",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Load better-skills-server on loopback and print one table."
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per scenario")
    parser.add_argument(
        "--warmup", type=float, default=None, help="seconds (default: 2, or 0 if duration < 3)"
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=2, help="server WORKERS (default 2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--pending-codes", type=int, default=20_000)
    parser.add_argument("--big-sessions", type=int, default=1_000_000)
    parser.add_argument("--big-codes", type=int, default=100_000)
    parser.add_argument("--big-users", type=int, default=10_000)
    parser.add_argument(
        "--src", type=Path, help="run the server from this source folder (put first on PYTHONPATH)"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra server setting, e.g. RATE_LIMIT_DEVICE_CODE=0/1m (a diagnosis, not the "
        "production configuration; say so when quoting the figures)",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record each scenario with py-spy (raw stacks) into this folder",
    )
    args = parser.parse_args(argv)
    args.scenarios = [x.strip() for x in args.scenarios.split(",") if x.strip()]
    for name in args.scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name!r}")
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "python"
    elif loadgen == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk), use --loadgen python")
    warmup = args.warmup if args.warmup is not None else (2.0 if args.duration >= 3 else 0.0)
    options = Options(args.duration, warmup, args.threads, args.connections, loadgen, args.profile)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        if backend not in ("sqlite", "postgres"):
            parser.error(f"unknown backend {backend!r}")
    reports = [bench_backend(b, args, options) for b in backends]
    print()
    for line in environment(args, options):
        print(line)
    print()
    print(table(reports))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "environment": environment(args, options),
                    "reports": [
                        {
                            **{k: v for k, v in vars(r).items() if k != "results"},
                            "results": [vars(x) for x in r.results],
                        }
                        for r in reports
                    ],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
