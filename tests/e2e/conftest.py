"""Browser fixtures: Debian's Chromium driven by Playwright, and the real CLI as a process.

Screenshots of every page state land in ``test-artifacts/screenshots/`` (git-ignored) so a
person can look at them; a page that logs a console error fails its test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and async tests in later modules could not start theirs.
@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest) -> Iterator[object]:
    """A page in a fresh browser profile (a new context: no cookies, no storage)."""
    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    console_errors: list[str] = []

    def on_console(msg) -> None:
        # A page answered with a deliberate 4xx (a wrong code, a rate limit) logs its own
        # status as "Failed to load resource"; that is the page working, not an error on it.
        own_document = msg.location.get("url") == page.url
        if msg.type == "error" and not (own_document and "Failed to load resource" in msg.text):
            console_errors.append(f"{msg.location.get('url')}: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    yield page
    context.close()
    assert console_errors == [], f"console errors on the pages: {console_errors}"


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def cli_executable() -> str:
    found = shutil.which("better-skills", path=str(Path(sys.executable).parent))
    return found or "better-skills"


@dataclass
class CliProcess:
    """A running ``better-skills`` command whose output is collected as it comes."""

    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text)
            if match:
                return match
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not in the CLI's output:\n{self.text}")

    def wait(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code


@dataclass
class Cli:
    """Runs the real CLI with its own config folder against one server."""

    server_url: str
    config_home: Path

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("BETTER_SKILLS_TOKEN", "BROWSER")}
        env.update(
            SERVER_URL=self.server_url,
            XDG_CONFIG_HOME=str(self.config_home),
            NO_COLOR="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    @property
    def session_file(self) -> Path:
        return self.config_home / "better-skills" / "session.json"

    def start(self, *args: str) -> CliProcess:
        process = subprocess.Popen(
            [cli_executable(), *args],
            env=self.env,
            cwd=self.config_home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return CliProcess(process)

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [cli_executable(), *args],
            env=self.env,
            cwd=self.config_home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def cli_for(tmp_path: Path):
    def make(server_url: str) -> Cli:
        home = tmp_path / f"cli-{len(list(tmp_path.glob('cli-*')))}"
        home.mkdir()
        return Cli(server_url, home)

    return make
