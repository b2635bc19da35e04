"""The share pages in process: the public page (signed out and in), the Import form and the
skill page's Share form, with the form guard (origin, CSRF) they share with every page."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from better_skills.server.http import session_cookie_name
from tests.shares.test_shares_api import linked_pair, share
from tests.vault.support import Person, add_person, add_team_vault, created, services_of

pytestmark = pytest.mark.anyio

ORIGIN = {"Origin": "http://testserver"}


def text_of(response: httpx.Response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def signed_in(client: httpx.AsyncClient, who: Person) -> httpx.AsyncClient:
    """A browser of ``who`` (their browser session in the cookie) on the same app."""
    name = session_cookie_name(services_of(client).settings)
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 50002))  # type: ignore[attr-defined]
    return httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies={name: who.token}
    )


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert match, "no CSRF field"
    return unescape(match.group(1))


async def test_the_public_page_signed_out(client) -> None:
    ada = await add_person(client)
    main, _ = await linked_pair(client, ada)
    made = await share(client, ada, main["id"])
    page = await client.get(f"/share/{made['id']}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    text = text_of(page)
    assert "main" in text and "The main skill." in text
    assert f"better-skills install-share {made['url']}" in text
    assert "references/notes.md · reference" not in text  # helper's file: on its view
    assert "Sign in to import" in text and 'action="/share/' not in page.text
    # SKILL.md as escaped text, mentions shown as what they name.
    assert "Use helper and references/notes.md." in text and "[[skill:" not in text
    assert "<script" not in page.text
    other = await client.get(f"/share/{made['id']}?skill={made['skills'][1]['id']}")
    assert "references/notes.md · reference" in text_of(other) and "Helps." in text_of(other)


async def test_hostile_content_is_escaped(client) -> None:
    ada = await add_person(client)
    from tests.vault.support import skill_md

    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    skill = await created(client, ada, {"SKILL.md": skill_md("evil", "Evil.", evil + "\n")})
    made = await share(client, ada, skill["id"])
    page = await client.get(f"/share/{made['id']}")
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_missing_and_revoked_shares_are_404_pages(client) -> None:
    ada = await add_person(client)
    made = await share(client, ada, (await created(client, ada))["id"])
    await client.delete(f"/api/v1/shares/{made['id']}", headers=ada.auth)
    for path in (f"/share/{made['id']}", "/share/nope", "/share/" + "x" * 3000):
        page = await client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert "text/html" in page.headers["content-type"]


async def test_import_from_the_page(client) -> None:
    ada = await add_person(client, "Ada")
    bob = await add_person(client, "Bob", kind="browser")
    made = await share(client, ada, (await linked_pair(client, ada))[0]["id"])
    async with signed_in(client, bob) as browser:
        page = await browser.get(f"/share/{made['id']}")
        assert "Import to my vault" in page.text
        token = csrf_of(page.text)
        action = f"/share/{made['id']}/import"
        # Without the CSRF token, or from another site: refused, nothing imported.
        refused = await browser.post(action, data={}, headers=ORIGIN)
        assert refused.status_code == 403
        cross = await browser.post(
            action, data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403
        done = await browser.post(action, data={"csrf_token": token}, headers=ORIGIN)
        assert done.status_code == 303
        assert done.headers["location"] == f"/share/{made['id']}?done=imported"
        assert "now in your personal vault" in text_of(await browser.get(done.headers["location"]))
    mine = await client.get("/api/v1/skills?vault=personal", headers=bob.auth)
    assert {s["slug"] for s in mine.json()["items"]} == {"main", "helper"}

    # Signed out: to the sign-in page, and back here afterwards.
    out = await client.post(f"/share/{made['id']}/import", data={}, headers=ORIGIN)
    assert out.status_code == 303 and out.headers["location"].startswith("/login?next=")


async def test_share_from_the_skill_page(client) -> None:
    ada = await add_person(client, "Ada", kind="browser")
    member = await add_person(client, "Mem", kind="browser")
    skill = await created(client, ada)
    await add_team_vault(client, "acme", {ada.id: "owner", member.id: "member"})
    team_skill = await created(client, ada, vault="acme")
    async with signed_in(client, ada) as browser:
        token = csrf_of(
            (await browser.get(f"/share/{(await share(client, ada, skill['id']))['id']}")).text
        )
        made = await browser.post(
            f"/vault/skills/{skill['id']}/share", data={"csrf_token": token}, headers=ORIGIN
        )
        assert made.status_code == 303
        location = made.headers["location"]
        assert re.fullmatch(r"/share/[0-9a-f-]{36}", location)
        assert (await browser.get(location)).status_code == 200
        missing = await browser.post(
            "/vault/skills/nope/share", data={"csrf_token": token}, headers=ORIGIN
        )
        assert missing.status_code == 404
        assert (
            await browser.post(f"/vault/skills/{skill['id']}/share", data={}, headers=ORIGIN)
        ).status_code == 403
    async with signed_in(client, member) as browser:
        token = csrf_of((await browser.get(location)).text)
        refused = await browser.post(
            f"/vault/skills/{team_skill['id']}/share", data={"csrf_token": token}, headers=ORIGIN
        )
        assert refused.status_code == 403
        assert "owner or an admin" in text_of(refused)
    signed_out = await client.post(f"/vault/skills/{skill['id']}/share", data={}, headers=ORIGIN)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]
    listed = (await client.get("/api/v1/shares", headers=ada.auth)).json()["items"]
    assert len(listed) == 2
