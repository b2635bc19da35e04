"""A share link in a real browser (Debian's Chromium) against a server process: opened signed
out it shows the skill and the install command; signing in from it comes back to it, and the
Import button copies the skills into the personal vault. Screenshots at 1280 and 390 px."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_pages_in_browser import issue, new_page, poll
from tests.support.live_cli import unique_email
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


def signed_up_token(server: LiveServer) -> str:
    """Ada signs up; a device code she approves gives the API token."""
    person = server.browser()
    try:
        person.sign_up("Ada Lovelace", unique_email(), PASSWORD)
        code = issue(server)
        person.approve(code["user_code"])
    finally:
        person.close()
    token: str = poll(server, code["device_code"]).json()["access_token"]
    return token


def skill(api: httpx.Client, name: str, body: str) -> dict[str, Any]:
    text = f"---\nname: {name}\ndescription: The {name} skill, shared.\n---\n{body}"
    response = api.post(
        "/api/v1/skills",
        json={
            "files": [
                {"path": "SKILL.md", "content": text},
                {"path": "scripts/run.sh", "content": "echo hi\n"},
            ]
        },
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def test_a_share_link_signed_out_then_imported(shared_server: LiveServer, chromium: Any) -> None:
    token = signed_up_token(shared_server)
    api = httpx.Client(base_url=shared_server.url, headers={"Authorization": f"Bearer {token}"})
    helper = skill(api, "helper", "# Helper\n")
    main = skill(api, "deploy-checklist", f"# Deploy\n\nFirst read [[skill:{helper['id']}]].\n")
    made = api.post(f"/api/v1/skills/{main['id']}/shares").json()
    url = made["url"]

    for width, height in ((1280, 900), (390, 844)):
        page, problems = new_page(chromium, width, height)
        page.goto(url)
        assert page.locator("h1").first.inner_text() == "deploy-checklist"
        assert "The deploy-checklist skill, shared." in page.locator(".lead").inner_text()
        assert (
            f"better-skills install-share {url}" in page.locator("pre.command").first.inner_text()
        )
        assert page.locator("a:has-text('Sign in')").count() >= 1
        assert page.locator("button:has-text('Import')").count() == 0
        assert "scripts/run.sh" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"share-signed-out-{width}")
        assert problems == []
        page.context.close()

    # Another person signs in from the share page, comes back to it and imports.
    page, problems = new_page(chromium, 1280, 900)
    page.goto(url)
    page.click("main a:has-text('Sign in')")
    page.fill("#signup-name", "Bob Builder")
    page.fill("#signup-email", unique_email("bob"))
    page.fill("#signup-password", PASSWORD)
    page.click("button:has-text('Create account')")
    page.wait_for_url(url)
    page.click("button:has-text('Import to my vault')")
    page.wait_for_url(url + "?done=imported")
    assert "now in your personal vault" in page.locator("[role=status]").inner_text()
    screenshot(page, "share-imported-1280")
    assert problems == []
    page.context.close()
    # The sharer's vault is unchanged; the share is still listed.
    assert [s["id"] for s in api.get("/api/v1/shares").json()["items"]] == [made["id"]]
    api.close()
