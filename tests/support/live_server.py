"""A real ``better-skills-server`` process on a free loopback port, and a web user for it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

TEST_SECRET = "test-secret-key-" + "x" * 32
#: tests/support/app.py's cheap_hash_cost, as better_skills.server.security reads it.
TEST_HASH_COST_ENV = "_BETTER_SKILLS_TEST_HASH_COST"
CHEAP_HASH_COST = "1,1024,1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_executable() -> list[str]:
    found = shutil.which("better-skills-server", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "better_skills.server.main"]


class LiveServer:
    """One server process; ``stop()`` and ``start()`` keep the port and the database."""

    def __init__(self, database_url: str, folder: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.folder = folder
        self.log_path = folder / f"server-{self.port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("SERVER_URL",)},
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            "SECRET_KEY": TEST_SECRET,
            "XDG_DATA_HOME": str(folder / "data"),
            "SWEEP_INTERVAL": "3600",
            # argon2id at its lowest cost, as in-process tests hash (tests/support/app.py)
            TEST_HASH_COST_ENV: CHEAP_HASH_COST,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        #: The command that runs the server (a test may wrap it; see tests/faults).
        self.command: list[str] = server_executable()

    def start(self, timeout: float = 30.0) -> LiveServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=self.folder, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)

    def browser(self) -> BrowserUser:
        return BrowserUser(self.url)


class BrowserUser:
    """A person in a web browser, over plain HTTP: cookies, and our own Origin on POSTs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10, headers={"Origin": url})
        self.user: dict[str, Any] | None = None

    def sign_up(self, name: str, email: str, password: str) -> dict[str, Any]:
        response = self.http.post(
            "/api/auth/sign-up/email", json={"name": name, "email": email, "password": password}
        )
        response.raise_for_status()
        self.user = response.json()["user"]
        return response.json()

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        response = self.http.post(
            "/api/auth/sign-in/email", json={"email": email, "password": password}
        )
        response.raise_for_status()
        self.user = response.json()["user"]
        return response.json()

    def claim(self, user_code: str) -> dict[str, Any]:
        response = self.http.get("/api/auth/device", params={"user_code": user_code})
        response.raise_for_status()
        return response.json()

    def approve(self, user_code: str) -> None:
        self.claim(user_code)
        self.http.post("/api/auth/device/approve", json={"userCode": user_code}).raise_for_status()

    def deny(self, user_code: str) -> None:
        self.claim(user_code)
        self.http.post("/api/auth/device/deny", json={"userCode": user_code}).raise_for_status()

    def close(self) -> None:
        self.http.close()
