"""Running the real ``better-skills`` executable as a subprocess, for integration tests."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: Variables that would change what the CLI does; the tests set their own.
_SCRUBBED = ("SERVER_URL", "BETTER_SKILLS_TOKEN", "NO_COLOR", "BROWSER", "XDG_CONFIG_HOME")
CODE_LINE = re.compile(r"Your one-time code:\s+([A-Z0-9]{4}-[A-Z0-9]{4})")


def executable() -> list[str]:
    found = shutil.which("better-skills", path=str(Path(sys.executable).parent)) or shutil.which(
        "better-skills"
    )
    return [found] if found else [sys.executable, "-m", "better_skills.cli.main"]


class Cli:
    """``better-skills`` with its own config folder, pointed at one server."""

    def __init__(self, tmp_path: Path, server_url: str) -> None:
        self.config_home = tmp_path / "cli-config"
        self.cwd = tmp_path / "cli-cwd"  # no .env of the repository is picked up
        self.cwd.mkdir(exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        self.env.update({"SERVER_URL": server_url, "XDG_CONFIG_HOME": str(self.config_home)})

    @property
    def session_path(self) -> Path:
        return self.config_home / "better-skills" / "session.json"

    def session(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.session_path.read_text())
        return data

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*executable(), *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def start_login(self, *args: str) -> LoginProcess:
        return LoginProcess(self, args)


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT handled by default, as in a terminal. A test runner started in the
    background by a non-interactive shell ignores SIGINT, and its children would inherit that
    (the Ctrl-C test then hung instead of testing the CLI)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class LoginProcess:
    """``better-skills login --no-browser`` running in the background; stderr read as it comes."""

    def __init__(self, cli: Cli, args: tuple[str, ...]) -> None:
        self.process = subprocess.Popen(
            [*executable(), "login", "--no-browser", *args],
            env=cli.env,
            cwd=cli.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
        self._stderr: list[str] = []
        self._stdout = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float = 20) -> re.Match[str]:
        """The first match of ``pattern`` in stderr, once the CLI has printed it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.stderr)
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"{pattern!r} not shown; stderr so far:\n{self.stderr}")

    def user_code(self, timeout: float = 20) -> str:
        return self.wait_for(CODE_LINE, timeout).group(1)

    def wait(self, timeout: float = 30) -> tuple[int, str, str]:
        """(exit code, stdout, stderr)."""
        assert self.process.stdout is not None
        self._stdout = self.process.stdout.read() if self.process.stdout else ""
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code, self._stdout, self.stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def unique_email(name: str = "ada") -> str:
    """An address no other test uses, for a person on a server that tests share."""
    return f"{name}-{secrets.token_hex(4)}@example.com"


def logged_in(cli: Cli, server: Any, email: str | None = None) -> str:
    """Sign a person (Ada, at ``email``, else an address of her own) up on ``server`` (a
    ``LiveServer``), log ``cli`` in by device code with her approval, and return the CLI's
    access token."""
    person = server.browser()
    person.sign_up("Ada Lovelace", email or unique_email(), "correct horse battery staple")
    login = cli.start_login()
    try:
        person.approve(login.user_code())
        code, _, stderr = login.wait()
    finally:
        login.kill()
        person.close()
    assert code == 0, stderr
    token: str = cli.session()["accessToken"]
    return token
