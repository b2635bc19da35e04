"""The pages in a real browser (Debian's Chromium through Playwright) against a server process.

What only a browser shows: that form posts pass the Origin check under our referrer policy,
that the CSP blocks nothing the pages use (a violation is a console error), and that the
pages fit a phone's width.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from better_skills.protocol.device_flow import CLIENT_ID, DEFAULT_SCOPE, DEVICE_CODE_GRANT_TYPE
from tests.e2e.conftest import screenshot
from tests.support.live_cli import unique_email
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEVICE_AGENT = "better-skills/0.1.0 (browser test)"


def new_page(chromium: Any, width: int, height: int) -> tuple[Any, list[str]]:
    context = chromium.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return page, problems


def fits_the_width(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def issue(server: LiveServer) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/auth/device/code",
        json={"client_id": CLIENT_ID, "scope": DEFAULT_SCOPE},
        headers={"User-Agent": DEVICE_AGENT},
    )
    response.raise_for_status()
    return response.json()


def poll(server: LiveServer, device_code: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/auth/device/token",
        json={
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": device_code,
            "client_id": CLIENT_ID,
        },
        headers={"User-Agent": DEVICE_AGENT},
    )


@pytest.mark.parametrize(("width", "height"), [(1200, 900), (390, 844)])
def test_approve_a_terminal_and_manage_sessions_in_a_browser(
    shared_server: LiveServer, chromium: Any, width: int, height: int
) -> None:
    page, problems = new_page(chromium, width, height)
    email = unique_email()
    code = issue(shared_server)

    # Typing the code while signed out leads through sign-up and back to the code.
    page.goto(f"{shared_server.url}/device")
    assert fits_the_width(page)
    page.fill("#user-code", code["user_code"].lower().replace("-", ""))
    page.press("#user-code", "Enter")
    page.wait_for_url("**/login?next=*")
    assert fits_the_width(page)
    page.fill("#signup-name", "Ada Lovelace")
    page.fill("#signup-email", email)
    page.fill("#signup-password", "correct horse battery staple")
    page.click("button:has-text('Create account')")
    page.wait_for_url(f"**/device?user_code={code['user_code']}")
    body = page.inner_text("main")
    assert "Never approve a code you did not request yourself" in body
    assert CLIENT_ID in body and DEVICE_AGENT in body
    assert fits_the_width(page)

    # The approve form's POST passes the Origin check (the page's referrer policy allows it).
    page.click("button:has-text('Approve')")
    page.wait_for_selector("text=Approved. You can return to your terminal.")
    time.sleep(1.05)  # the live server's poll interval is 1 s
    token = poll(shared_server, code["device_code"])
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}

    page.goto(f"{shared_server.url}/account")
    assert "This browser" in page.inner_text("main")
    assert fits_the_width(page)
    page.click("li.session:has-text('Command line') button:has-text('Revoke')")
    page.wait_for_selector("text=Session revoked")
    assert httpx.get(f"{shared_server.url}/api/auth/get-session", headers=bearer).json() is None

    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login")
    page.goto(f"{shared_server.url}/account")
    page.wait_for_url("**/login?next=%2Faccount")
    assert problems == [], f"console errors (CSP violations show up here): {problems}"


def test_keyboard_focus_starts_at_the_skip_link_and_is_visible(
    shared_server: LiveServer, chromium: Any
) -> None:
    page, problems = new_page(chromium, 1200, 900)
    page.goto(f"{shared_server.url}/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")  # skips the header: the next Tab lands in the main content
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.innerText"))
    assert order == [
        "signin-email",
        "signin-password",
        "Sign in",
        "signup-name",
        "signup-email",
        "signup-password",
    ]
    assert problems == []


def test_on_a_phone_approve_and_deny_show_without_scrolling(
    shared_server: LiveServer, chromium: Any
) -> None:
    """Issue 15: on a 390 by 844 phone the buttons sat about 1,400 px down the page."""
    page, problems = new_page(chromium, 390, 844)
    email = unique_email()
    code = issue(shared_server)
    page.goto(f"{shared_server.url}/login")
    page.fill("#signup-name", "Ada Lovelace")
    page.fill("#signup-email", email)
    page.fill("#signup-password", "correct horse battery staple")
    page.click("button:has-text('Create account')")
    page.wait_for_url("**/welcome")
    page.goto(f"{shared_server.url}/device?user_code={code['user_code']}")
    assert page.evaluate("window.scrollY") == 0
    for name in ("Approve", "Deny"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None, name
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844, (name, box)
    assert fits_the_width(page)
    screenshot(page, "device-request-phone")
    assert problems == []


def test_tokens_and_sign_out_everywhere_in_a_browser(
    shared_server: LiveServer, chromium: Any
) -> None:
    page, problems = new_page(chromium, 390, 844)
    email = unique_email()
    page.goto(f"{shared_server.url}/login")
    page.fill("#signup-name", "Ada Lovelace")
    page.fill("#signup-email", email)
    page.fill("#signup-password", "correct horse battery staple")
    page.click("button:has-text('Create account')")
    page.wait_for_url("**/welcome")
    page.goto(f"{shared_server.url}/account")
    assert "Next: connect your terminal" in page.inner_text("main")
    page.fill("#token-name", "CI")
    page.select_option("#token-expiry", "90")
    page.click("button:has-text('Create token')")
    page.wait_for_selector("text=Copy your new token now")
    secret = page.inner_text(".token-secret").strip()
    bearer = {"Authorization": f"Bearer {secret}"}
    session = httpx.get(f"{shared_server.url}/api/auth/get-session", headers=bearer).json()
    assert session["user"]["email"] == email
    assert fits_the_width(page)
    screenshot(page, "account-new-token-phone")

    page.click("button:has-text('Sign out everywhere')")
    page.wait_for_selector("text=You are signed out everywhere")
    page.goto(f"{shared_server.url}/account")
    page.wait_for_url("**/login?next=%2Faccount")
    assert problems == []
