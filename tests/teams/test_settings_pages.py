"""``/settings`` and the invitations on ``/account``, over HTTP in process: forms through the
form guard (Origin, CSRF), post/redirect/get, refusals as pages with 4xx."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from better_skills.server.models import users

pytestmark = pytest.mark.anyio

ORIGIN = {"Origin": "http://testserver"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """One person's cookie jar on the in-process app."""

    def __init__(self, client: httpx.AsyncClient, transport: Any) -> None:
        self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.app = client.app  # type: ignore[attr-defined]

    async def sign_up(self, name: str, email: str) -> None:
        response = await self.http.post(
            "/api/auth/sign-up/email",
            json={"name": name, "email": email, "password": "correct horse battery"},
        )
        assert response.status_code == 200, response.text

    async def page(self, path: str = "/settings") -> str:
        response = await self.http.get(path)
        assert response.status_code == 200, response.text[:500]
        return response.text

    async def post(
        self, path: str, data: dict[str, str] | None = None, **opts: Any
    ) -> httpx.Response:
        html = await self.page()
        fields = {"csrf_token": _CSRF.search(html).group(1), **(data or {})}  # type: ignore[union-attr]
        return await self.http.post(path, data=fields, headers=opts.get("headers", ORIGIN))


@asynccontextmanager
async def two_people(client: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 50000))  # type: ignore[attr-defined]
    ada, bob = Browser(client, transport), Browser(client, transport)
    await ada.sign_up("Ada", "ada@example.com")
    await bob.sign_up("Bob", "bob@example.com")
    try:
        yield ada, bob
    finally:
        await ada.http.aclose()
        await bob.http.aclose()


def _team_id(html: str, slug: str) -> str:
    found = re.search(r'action="/settings/teams/([0-9a-f-]{36})"[^>]*>', html)
    assert found, html
    return found.group(1)


async def test_create_invite_accept_manage_in_the_pages(client) -> None:
    async with two_people(client) as (ada, bob):
        signed_out = await client.get("/settings")
        assert signed_out.status_code == 303
        assert signed_out.headers["location"].startswith("/login?next=%2Fsettings")

        created = await ada.post(
            "/settings/teams", {"name": "Acme Team", "slug": "", "color": "#123abc"}
        )
        assert created.status_code == 303
        assert created.headers["location"] == "/settings?done=created"
        html = await ada.page("/settings?done=created")
        assert "Team vault created" in html and "acme-team" in html
        vault_id = _team_id(html, "acme-team")

        # A taken slug: the page again, with the service's sentence and a 409.
        taken = await ada.post("/settings/teams", {"name": "Acme Team"})
        assert taken.status_code == 409
        assert "already exists" in taken.text and 'value="Acme Team"' in taken.text

        invited = await ada.post(
            f"/settings/teams/{vault_id}/invitations", {"email": "bob@example.com", "role": "admin"}
        )
        assert invited.headers["location"] == "/settings?done=invited"
        html = await ada.page()
        link = re.search(r'value="(http://testserver/settings\?invitation=[0-9a-f-]{36})"', html)
        assert link, html
        invitation_id = link.group(1).rsplit("=", 1)[1]

        # Bob sees it on /account and on /settings (highlighted when he follows the link).
        assert "Invitations waiting for you" in await bob.page("/account")
        html = await bob.page(f"/settings?invitation={invitation_id}")
        assert f'id="invitation-{invitation_id}"' in html and "session-current" in html
        accepted = await bob.post(f"/settings/invitations/{invitation_id}/accept")
        assert accepted.headers["location"] == "/settings?done=accepted"
        html = await bob.page("/settings?done=accepted")
        assert "You joined the vault" in html and "Leave Acme Team" in html
        assert f"/settings/invitations/{invitation_id}/accept" not in html
        html = await ada.page()
        assert "bob@example.com" in html and "invitation=" not in html


async def test_roles_transfer_leave_and_refusals_in_the_pages(client) -> None:
    async with two_people(client) as (ada, bob):
        await ada.post("/settings/teams", {"name": "Acme", "slug": "acme"})
        vault_id = _team_id(await ada.page(), "acme")
        await ada.post(
            f"/settings/teams/{vault_id}/invitations",
            {"email": "bob@example.com", "role": "member"},
        )
        svc = client.app.state.services  # type: ignore[attr-defined]
        bob_invitation = re.search(
            r"/settings/invitations/([0-9a-f-]{36})/accept", await bob.page()
        ).group(1)  # type: ignore[union-attr]
        await bob.post(f"/settings/invitations/{bob_invitation}/accept")
        async with svc.db.engine.connect() as conn:
            bob_id = (
                await conn.execute(select(users.c.id).where(users.c.email == "bob@example.com"))
            ).scalar_one()

        # A member sees no management forms and may leave; the owner may not.
        html = await bob.page()
        assert f"/settings/teams/{vault_id}/invitations" not in html
        assert "Leave Acme" in html
        refused = await bob.post(
            f"/settings/teams/{vault_id}/invitations", {"email": "c@example.com", "role": "member"}
        )
        assert refused.status_code == 403 and "owner or an admin" in refused.text

        role = await ada.post(
            f"/settings/teams/{vault_id}/members/{bob_id}/role", {"role": "admin"}
        )
        assert role.headers["location"] == "/settings?done=role"
        bad_role = await ada.post(
            f"/settings/teams/{vault_id}/members/{bob_id}/role", {"role": "owner"}
        )
        assert bad_role.status_code == 400
        colour = await ada.post(
            f"/settings/teams/{vault_id}", {"name": "Acme Inc", "color": "#00ff00"}
        )
        assert colour.headers["location"] == "/settings?done=updated"
        assert "Acme Inc" in await bob.page()

        owner_leaves = await ada.post(f"/settings/teams/{vault_id}/leave")
        assert owner_leaves.status_code == 400 and "transfer ownership" in owner_leaves.text
        moved = await ada.post(f"/settings/teams/{vault_id}/transfer", {"user_id": bob_id})
        assert moved.headers["location"] == "/settings?done=transferred"
        left = await ada.post(f"/settings/teams/{vault_id}/leave")
        assert left.headers["location"] == "/settings?done=left"
        assert "Acme Inc" not in await ada.page()

        # The vault switch.
        html = await ada.page()
        personal = re.search(r'action="/settings/vaults/([0-9a-f-]{36})/switch"', html).group(1)  # type: ignore[union-attr]
        off = await ada.post(f"/settings/vaults/{personal}/switch", {"enabled": "0"})
        assert off.headers["location"] == "/settings?done=disabled"
        assert "Turn sync on" in await ada.page()

        # The guard: no CSRF token, another site's Origin, an unknown id.
        html = await ada.page()
        no_token = await ada.http.post("/settings/teams", data={"name": "X"}, headers=ORIGIN)
        assert no_token.status_code == 403
        cross = await ada.post(
            "/settings/teams", {"name": "X"}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403
        missing = await ada.post("/settings/teams/not-a-vault/leave")
        assert missing.status_code == 404
        weird = await ada.post("/settings/invitations/%00/accept")
        assert weird.status_code == 404


async def test_delete_the_account_in_the_page(client) -> None:
    async with two_people(client) as (ada, bob):
        await ada.post("/settings/teams", {"name": "Solo", "slug": "solo"})
        wrong = await ada.post("/settings/delete-account", {"confirm_email": "bob@example.com"})
        assert wrong.status_code == 400 and "Type your account" in wrong.text
        done = await ada.post("/settings/delete-account", {"confirm_email": "ADA@example.com"})
        assert done.status_code == 303
        assert done.headers["location"] == "/?done=account-deleted"
        assert (await ada.http.get("/settings")).status_code == 303  # signed out
        svc = client.app.state.services  # type: ignore[attr-defined]
        async with svc.db.engine.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(users))).scalar_one()
        assert count == 1
        assert "Settings" in await bob.page("/account")  # the navigation links it
