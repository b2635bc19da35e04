"""``/settings`` in a real browser: a person creates a team vault and invites a second
person, who signs up from the invite link and accepts; screenshots at 1280 and 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import screenshot
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


def new_page(chromium: Any, width: int) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []

    def on_console(msg: Any) -> None:
        own_document = msg.location.get("url") == page.url
        if msg.type == "error" and not (own_document and "Failed to load resource" in msg.text):
            problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return context, page, problems


def sign_up(page: Any, name: str, email: str) -> None:
    page.fill("#signup-name", name)
    page.fill("#signup-email", email)
    page.fill("#signup-password", PASSWORD)
    page.get_by_role("button", name="Create account").click()


def shots(page: Any, folder: Path, name: str) -> list[Path]:
    """The page at 1280 and 390 px wide, under the test's folder (and test-artifacts)."""
    saved = []
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        path = folder / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        screenshot(page, f"{name}-{width}")
        saved.append(path)
    page.set_viewport_size({"width": 1280, "height": 900})
    return saved


def test_create_a_team_vault_invite_and_accept(
    chromium: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    owner_context, owner, owner_problems = new_page(chromium, 1280)
    guest_context, guest, guest_problems = new_page(chromium, 1280)
    try:
        owner.goto(f"{live_server.url}/login?next=/settings")
        sign_up(owner, "Olive Owner", "olive@example.com")
        owner.wait_for_url("**/settings")
        owner.get_by_role("heading", name="Settings").wait_for()

        owner.fill("#team-name", "Acme Team")
        owner.get_by_role("button", name="Create team vault").click()
        owner.get_by_text("Team vault created").wait_for()
        owner.get_by_label("Email").first.fill("guest@example.com")
        owner.get_by_role("combobox", name="Role").first.select_option("admin")
        owner.get_by_role("button", name="Invite", exact=True).click()
        owner.get_by_text("Invitation created").wait_for()
        link = owner.get_by_label("Invite link").first.input_value()
        assert link.startswith(f"{live_server.url}/settings?invitation=")

        # The guest follows the link: sign in first, then back to the invitation.
        guest.goto(link)
        assert "/login" in guest.url
        sign_up(guest, "Gus Guest", "guest@example.com")
        guest.wait_for_url("**/settings?invitation=*")
        guest.get_by_text("Acme Team").first.wait_for()
        shots(guest, tmp_path, "settings-invitation")
        guest.get_by_role("button", name="Accept the invitation to Acme Team").click()
        guest.get_by_text("You joined the vault").wait_for()
        assert "Leave Acme Team" in guest.inner_text("main")

        owner.goto(f"{live_server.url}/settings")
        members = owner.inner_text("main")
        assert "Gus Guest" in members and "guest@example.com" in members
        saved = shots(owner, tmp_path, "settings-owner")
        assert all(path.stat().st_size > 10_000 for path in saved)
    finally:
        owner_context.close()
        guest_context.close()
    assert owner_problems == [] and guest_problems == []
