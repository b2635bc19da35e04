"""Per-user limits on writes (issue 18 item 5): ``RATE_LIMIT_WRITES`` on skill creates,
updates and deletes, on ``/api/v1`` and ``/trpc`` alike, and on shares, imports and
invitations, with ``Retry-After`` (the
per-address sign-up limit is tested in tests/server/test_account_limits.py). Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from better_skills.server.models import skill_shares, skills, vault_invitations
from tests.trpc.support import error_of, mutate
from tests.vault.support import (
    add_person,
    add_team_vault,
    assert_error,
    create,
    created,
    skill_md,
    uploads,
)

pytestmark = pytest.mark.anyio


async def skill_count(client: Any) -> int:
    async with client.app.state.services.db.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(skills))).scalar_one()


def trpc_create(slug: str) -> dict[str, Any]:
    return {"slug": slug, "name": slug, "description": "Made by tRPC.", "skillMarkdown": "# x\n"}


async def test_writes_past_the_limit_get_429_with_retry_after_on_both_surfaces(
    app_client: Any, clock: Any
) -> None:
    async with app_client(RATE_LIMIT_WRITES="3/1m") as client:
        ada = await add_person(client, "Ada")
        bob = await add_person(client, "Bob")
        first = await created(client, ada, {"SKILL.md": skill_md("one")})
        await created(client, ada, {"SKILL.md": skill_md("two")})
        replaced = await client.put(
            f"/api/v1/skills/{first['id']}",
            json={"files": uploads({"SKILL.md": skill_md("one", body="# v2\n")})},
            headers=ada.auth,
        )
        assert replaced.status_code == 200, replaced.text
        before = await skill_count(client)

        refused = await create(client, ada, {"SKILL.md": skill_md("three")})
        body = assert_error(refused, 429, "too_many_requests")
        assert "Try again in" in body["error_description"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        put = await client.put(
            f"/api/v1/skills/{first['id']}",
            json={"files": uploads({"SKILL.md": skill_md("one", body="# v3\n")})},
            headers=ada.auth,
        )
        assert_error(put, 429, "too_many_requests")
        deleted = await client.delete(f"/api/v1/skills/{first['id']}", headers=ada.auth)
        assert_error(deleted, 429, "too_many_requests")
        answer = await mutate(client, "skills.create", trpc_create("four"), ada)
        error_of(answer, 429, "TOO_MANY_REQUESTS", "skills.create")
        assert int(answer.headers["Retry-After"]) >= 1
        gone = await mutate(client, "skills.delete", {"id": first["id"]}, ada)
        error_of(gone, 429, "TOO_MANY_REQUESTS", "skills.delete")
        # Nothing changed, and the stored skill is still the second version.
        assert await skill_count(client) == before
        got = await client.get(f"/api/v1/skills/{first['id']}/files/SKILL.md", headers=ada.auth)
        assert b"# v2" in got.content

        # Another account has its own budget; reads are never limited.
        await created(client, bob, {"SKILL.md": skill_md("bobs")})
        assert (await client.get("/api/v1/skills", headers=ada.auth)).status_code == 200

        # One write comes back every 20 s (3 per minute).
        clock.advance(int(refused.headers["Retry-After"]))
        await created(client, ada, {"SKILL.md": skill_md("three")})
        again = await create(client, ada, {"SKILL.md": skill_md("five")})
        assert_error(again, 429, "too_many_requests")
        clock.advance(20)
        made = await mutate(client, "skills.create", trpc_create("four"), ada)
        assert made.status_code == 200, made.text


async def test_refused_and_invalid_writes_count_too(app_client: Any) -> None:
    """A flood of invalid or forbidden writes costs the server as much: it counts."""
    async with app_client(RATE_LIMIT_WRITES="2/1h") as client:
        ada = await add_person(client, "Ada")
        bob = await add_person(client, "Bob")
        bobs = await created(client, bob)
        assert_error(await create(client, ada, {"README.md": b"x"}), 400, "validation_failed")
        stranger = await client.delete(f"/api/v1/skills/{bobs['id']}", headers=ada.auth)
        assert_error(stranger, 404, "not_found")
        assert_error(await create(client, ada), 429, "too_many_requests")


async def test_zero_turns_the_write_limit_off(app_client: Any) -> None:
    async with app_client(RATE_LIMIT_WRITES="0/1m") as client:
        ada = await add_person(client, "Ada")
        for n in range(8):
            await created(client, ada, {"SKILL.md": skill_md(f"s{n}")})


async def test_the_write_limit_helper_takes_a_bucket_and_rule(app_client: Any) -> None:
    """What shares and invitations call: ``services.write_limits.charge(user_id, ...)``."""
    from better_skills.protocol.errors import TooManyRequests
    from better_skills.server.settings import RateLimit

    async with app_client(RATE_LIMIT_WRITES="1/1h") as client:
        limits = client.app.state.services.write_limits
        await limits.charge("u1", "shares", RateLimit(2, 60))
        await limits.charge("u1", "shares", RateLimit(2, 60))
        with pytest.raises(TooManyRequests) as refused:
            await limits.charge("u1", "shares", RateLimit(2, 60))
        assert refused.value.retry_after == 30
        await limits.charge("u1")  # the default bucket is separate
        with pytest.raises(TooManyRequests):
            await limits.charge("u1")


async def rows_of(client: Any, table: Any) -> int:
    async with client.app.state.services.db.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def test_shares_and_imports_spend_the_write_budget(app_client: Any, clock: Any) -> None:
    """Creating and importing shares counts against ``RATE_LIMIT_WRITES`` (one budget with
    skill writes, as the README's settings table says)."""
    async with app_client(RATE_LIMIT_WRITES="3/1m") as client:
        ada = await add_person(client, "Ada")
        bob = await add_person(client, "Bob")
        skill = await created(client, ada, {"SKILL.md": skill_md("shared")})
        share_url = f"/api/v1/skills/{skill['id']}/shares"
        first = await client.post(share_url, headers=ada.auth)
        assert first.status_code == 201, first.text
        imported = await client.post(
            f"/api/v1/shares/{first.json()['id']}/import", headers=ada.auth
        )
        assert imported.status_code == 201, imported.text
        shares_before, skills_before = (
            await rows_of(client, skill_shares),
            await skill_count(client),
        )

        refused = await client.post(share_url, headers=ada.auth)
        body = assert_error(refused, 429, "too_many_requests")
        assert "Try again in" in body["error_description"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        again = await client.post(f"/api/v1/shares/{first.json()['id']}/import", headers=ada.auth)
        assert_error(again, 429, "too_many_requests")
        assert int(again.headers["Retry-After"]) >= 1
        assert await rows_of(client, skill_shares) == shares_before
        assert await skill_count(client) == skills_before

        # Another account has its own budget; public reads of the share are not writes.
        by_bob = await client.post(f"/api/v1/shares/{first.json()['id']}/import", headers=bob.auth)
        assert by_bob.status_code == 201, by_bob.text
        assert (await client.get(f"/api/v1/shares/{first.json()['id']}")).status_code == 200

        clock.advance(int(refused.headers["Retry-After"]))
        assert (await client.post(share_url, headers=ada.auth)).status_code == 201


async def test_invitations_spend_the_write_budget(app_client: Any, clock: Any) -> None:
    async with app_client(RATE_LIMIT_WRITES="2/1h") as client:
        ada = await add_person(client, "Ada")
        vault_id = await add_team_vault(client, "acme", {ada.id: "owner"})
        url = f"/api/v1/vaults/{vault_id}/invitations"
        for n in range(2):
            sent = await client.post(url, json={"email": f"p{n}@example.com"}, headers=ada.auth)
            assert sent.status_code == 201, sent.text
        refused = await client.post(url, json={"email": "p9@example.com"}, headers=ada.auth)
        body = assert_error(refused, 429, "too_many_requests")
        assert "Try again in" in body["error_description"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 30 * 60
        # A refused invitation (here: an invalid address) counts too, and nothing is stored.
        assert_error(
            await client.post(url, json={"email": "not-an-address"}, headers=ada.auth),
            429,
            "too_many_requests",
        )
        assert await rows_of(client, vault_invitations) == 2
        listed = await client.get(url, headers=ada.auth)  # reads are never limited
        assert listed.status_code == 200 and len(listed.json()["items"]) == 2
        clock.advance(int(refused.headers["Retry-After"]))
        sent = await client.post(url, json={"email": "p9@example.com"}, headers=ada.auth)
        assert sent.status_code == 201, sent.text


async def test_console_share_and_invite_forms_past_the_limit_are_a_429_page(
    app_client: Any,
) -> None:
    """The console's Share button and invitation form reach the same budget; past it the
    page says so with status 429 (never a 500), and nothing is stored."""
    from tests.console.support import browser_person, hidden, page, post, text_of

    async with app_client(RATE_LIMIT_WRITES="2/1h") as client:
        ada = await browser_person(client, "Ada")
        vault_id = await add_team_vault(client, "acme", {ada.id: "owner"})
        skill = await created(client, ada, {"SKILL.md": skill_md("shared")})  # 1 of 2
        shown = await page(client, ada, f"/vault/skills/{skill['id']}")
        token = hidden(shown.text, "csrf_token")
        share_url = f"/vault/skills/{skill['id']}/share"
        made = await post(client, ada, share_url, {"csrf_token": token})  # 2 of 2
        assert made.status_code == 303, made.text[:300]
        refused = await post(client, ada, share_url, {"csrf_token": token})
        assert refused.status_code == 429, refused.text[:300]
        assert "Too many changes" in text_of(refused)
        settings = await page(client, ada, "/settings")
        invite = await post(
            client,
            ada,
            f"/settings/teams/{vault_id}/invitations",
            {
                "csrf_token": hidden(settings.text, "csrf_token"),
                "email": "p@example.com",
                "role": "member",
            },
        )
        assert invite.status_code == 429, invite.text[:300]
        assert "Too many changes" in text_of(invite)
        assert await rows_of(client, skill_shares) == 1
        assert await rows_of(client, vault_invitations) == 0
