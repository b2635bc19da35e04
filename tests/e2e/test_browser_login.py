"""The whole journey as people meet it: the real CLI waits while headless Chromium signs up,
looks at the request and approves or denies it (issue 4). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import stat
import time
from collections.abc import Callable

import pytest

from tests.e2e.conftest import screenshot
from tests.support.flow import PASSWORD
from tests.support.live_cli import Cli, LoginProcess, unique_email
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

URL = r"(http://\S+/device\?user_code=[A-Z-]+)"
CODE = r"\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b"


def start_login(cli: Cli) -> tuple[LoginProcess, str, str]:
    login = cli.start_login()
    url = login.wait_for(URL).group(1)
    code = login.wait_for(CODE).group(1)
    return login, url, code


def sign_up(page, name: str = "Ada Lovelace", email: str | None = None) -> str:
    """Sign up on the page shown, as ``email`` or an address of one's own; return it."""
    email = email or unique_email()
    page.fill("#signup-name", name)
    page.fill("#signup-email", email)
    page.fill("#signup-password", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    return email


def test_open_link_sign_up_and_approve(
    shared_server: LiveServer, cli_for: Callable[[str], Cli], page
) -> None:
    cli = cli_for(shared_server.url)
    login, url, code = start_login(cli)

    page.goto(url)
    assert "/login" in page.url
    screenshot(page, "sign-in")
    email = sign_up(page)

    page.wait_for_url(re.compile(r"/device\?user_code="))
    body = page.inner_text("main")
    assert code in body
    assert "better-skills-cli" in body
    assert "127.0.0.1" in body  # the device's address
    assert "python-httpx" in body or "better-skills" in body  # the device's user agent
    assert "Never approve a code you did not request" in body
    screenshot(page, "device-with-code")

    page.get_by_role("button", name="Approve").click()
    page.get_by_role("heading", name="Approved").wait_for()
    assert "return to your terminal" in page.inner_text("main")
    screenshot(page, "approved")

    assert login.wait(30)[0] == 0, login.stderr
    assert f"Logged in as Ada Lovelace <{email}>" in login.stderr
    mode = stat.S_IMODE(cli.session_path.stat().st_mode)
    assert mode == 0o600
    saved = json.loads(cli.session_path.read_text())
    assert saved["version"] == 1
    assert saved["tokenType"] == "Bearer"

    whoami = cli.run("whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert email in whoami.stdout + whoami.stderr


def test_deny(shared_server: LiveServer, cli_for: Callable[[str], Cli], page) -> None:
    cli = cli_for(shared_server.url)
    login, url, _code = start_login(cli)
    page.goto(url)
    sign_up(page)
    page.get_by_role("button", name="Deny").click()
    page.get_by_role("heading", name="Denied").wait_for()
    screenshot(page, "denied")
    assert login.wait(30)[0] != 0
    assert "Login was denied in the browser." in login.stderr
    assert not cli.session_path.exists()


def test_type_the_code_by_hand(
    shared_server: LiveServer, cli_for: Callable[[str], Cli], page
) -> None:
    page.goto(shared_server.url + "/login")
    sign_up(page)
    cli = cli_for(shared_server.url)
    login, _url, code = start_login(cli)

    page.goto(shared_server.url + "/device")
    screenshot(page, "device-entry")
    page.get_by_label("Code").fill(code.replace("-", "").lower())
    page.get_by_role("button", name="Continue").click()
    assert code in page.inner_text("main")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("heading", name="Approved").wait_for()
    assert login.wait(30)[0] == 0, login.stderr


def test_wrong_codes_get_a_message_then_hit_the_limit(
    server_factory: Callable[..., LiveServer], page
) -> None:
    server = server_factory(POLL_INTERVAL="1", RATE_LIMIT_USER_CODE="3/15m")
    page.goto(server.url + "/login")
    sign_up(page)
    page.goto(server.url + "/device")
    for attempt in range(3):
        page.get_by_label("Code").fill("BCDF-BCDF")
        page.get_by_role("button", name="Continue").click()
        text = page.inner_text("main")
        assert "code" in text.lower() and ("not" in text.lower() or "invalid" in text.lower())
        if attempt == 0:
            screenshot(page, "device-wrong-code")
    page.get_by_label("Code").fill("BCDF-BCDF")
    page.get_by_role("button", name="Continue").click()
    limited = page.inner_text("main").lower()
    assert "too many" in limited
    assert re.search(r"\d+ (minutes|seconds)", limited)
    screenshot(page, "device-rate-limited")


def test_account_lists_the_cli_session_and_revoking_it_ends_it(
    shared_server: LiveServer, cli_for: Callable[[str], Cli], page
) -> None:
    cli = cli_for(shared_server.url)
    login, url, _code = start_login(cli)
    page.goto(url)
    sign_up(page)
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("heading", name="Approved").wait_for()
    assert login.wait(30)[0] == 0, login.stderr
    assert cli.run("whoami").returncode == 0

    page.goto(shared_server.url + "/account")
    sessions = page.locator("li.session")
    assert sessions.count() == 2  # this browser and the CLI
    screenshot(page, "account")
    cli_session = sessions.filter(has_not=page.locator(".badge"))
    assert "127.0.0.1" in cli_session.inner_text()
    cli_session.get_by_role("button", name=re.compile("Revoke")).click()
    page.wait_for_load_state()
    assert page.locator("li.session").count() == 1
    screenshot(page, "account-after-revoke")

    whoami = cli.run("whoami")
    assert whoami.returncode == 4
    assert "session invalid or expired" in whoami.stderr
    assert "better-skills login" in whoami.stderr


def test_code_expires_while_the_page_is_open(
    server_factory: Callable[..., LiveServer], cli_for: Callable[[str], Cli], page
) -> None:
    server = server_factory(POLL_INTERVAL="1", DEVICE_CODE_TTL="6")
    page.goto(server.url + "/login")
    sign_up(page)
    cli = cli_for(server.url)
    login, url, _code = start_login(cli)
    # The code was issued before its URL was printed: from here on its age is at least this.
    started = time.monotonic()
    page.goto(url)
    page.get_by_role("button", name="Approve").wait_for()
    time.sleep(max(0.0, 6.5 - (time.monotonic() - started)))
    page.get_by_role("button", name="Approve").click()
    assert "expired" in page.inner_text("main").lower()
    screenshot(page, "device-expired")
    assert login.wait(30)[0] != 0
    assert "Login code expired. Run `better-skills login` again." in login.stderr
    assert not cli.session_path.exists()
