"""Browser fixtures: Debian's Chromium driven by Playwright, and the real CLI as a process.

Screenshots of every page state land in ``test-artifacts/screenshots/`` (git-ignored) so a
person can look at them; a page that logs a console error fails its test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.live_cli import Cli

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


@pytest.fixture
def cli_for(tmp_path: Path) -> Callable[[str], Cli]:
    """The real ``better-skills`` with its own config folder, for one server."""

    def make(server_url: str) -> Cli:
        home = tmp_path / f"cli-{len(list(tmp_path.glob('cli-*')))}"
        home.mkdir()
        return Cli(home, server_url)

    return make
