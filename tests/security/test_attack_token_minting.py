"""A stolen CLI token must not mint new tokens (issue 16 item 8), and looking a code up from
another site must change nothing (issue 16 item 9, the API's part)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from better_skills.protocol.device_flow import Paths
from better_skills.server.models import device_codes, sessions
from better_skills.server.services import Caller
from tests.security.helpers import assert_rfc_error, hidden, page_sign_up
from tests.server.flow import ORIGIN, claim, decide, issue, poll, sign_up

pytestmark = pytest.mark.anyio


async def cli_token(device, person) -> str:
    code = await issue(device)
    assert (await claim(person, code["user_code"])).status_code == 200
    assert (await decide(person, code["user_code"])).status_code == 200
    return (await poll(device, code["device_code"])).json()["access_token"]


async def test_a_cli_token_cannot_open_approve_or_deny_a_device_code(app) -> None:
    """Before the fix, ``Authorization: Bearer T`` of a CLI login opened and approved a
    fresh code: the thief got a new 8-hour token that survived signing T out."""
    async with app() as a, a.client() as thief, a.client("10.0.0.2") as person:
        await sign_up(person)
        stolen = await cli_token(thief, person)
        bearer = {"Authorization": f"Bearer {stolen}"}
        fresh = await issue(thief)
        opened = await thief.get(
            Paths.DEVICE_VERIFY, params={"user_code": fresh["user_code"]}, headers=bearer
        )
        assert assert_rfc_error(opened, 403)["error"] == "forbidden"
        for verb in ("approve", "deny"):
            answer = await thief.post(
                f"/api/auth/device/{verb}", json={"userCode": fresh["user_code"]}, headers=bearer
            )
            assert assert_rfc_error(answer, 403)["error"] == "forbidden"
        # Planted in the session cookie (with our Origin, which a program can send), the CLI
        # token is no browser session at all.
        thief.cookies.set("better_skills_session", stolen)
        planted = await thief.post(
            Paths.DEVICE_APPROVE, json={"userCode": fresh["user_code"]}, headers=ORIGIN
        )
        assert assert_rfc_error(planted, 401)["error"] == "unauthorized"
        assert (await thief.get(Paths.GET_SESSION)).json() is None
        async with a.services.db.engine.connect() as conn:
            row = (await conn.execute(select(device_codes.c.status, device_codes.c.user_id))).all()
        assert sorted(r.status for r in row) == ["pending", "redeemed"]
        assert all(r.user_id is None for r in row if r.status == "pending")
        still = await poll(thief, fresh["device_code"])
        assert still.json()["error"] in ("authorization_pending", "slow_down")


async def test_a_device_session_keeps_its_kind_and_scope(app) -> None:
    async with app() as a, a.client() as device, a.client("10.0.0.2") as person:
        await sign_up(person)
        token = await cli_token(device, person)
        view = await a.services.sessions.lookup(token)
        assert view.kind == "device" and not view.is_browser
        assert view.scopes == {"openid", "profile", "email"}
        browser = await a.services.sessions.lookup(person.cookies["better_skills_session"])
        assert browser.kind == "browser" and browser.is_browser and browser.scope is None
        # A cookie may carry only a browser session.
        assert await a.services.sessions.lookup(token, kinds=("browser",)) is None


async def test_sign_out_everywhere_ends_every_session(app) -> None:
    async with app() as a, a.client() as device, a.client("10.0.0.2") as person:
        user = (await sign_up(person))["user"]
        tokens = [await cli_token(device, person) for _ in range(3)]
        async with a.client("10.0.0.9") as other:
            await sign_up(other, "eve@example.com")
            ended = await a.services.sessions.revoke_all(user["id"], Caller(ip="10.0.0.2"))
            assert ended == 4  # three CLI logins and this browser
            for token in tokens:
                gone = await device.get(
                    Paths.GET_SESSION, headers={"Authorization": f"Bearer {token}"}
                )
                assert gone.json() is None
            assert (await person.get(Paths.GET_SESSION)).json() is None
            assert (await other.get(Paths.GET_SESSION)).json() is not None  # others keep theirs
        async with a.services.db.engine.connect() as conn:
            left = (await conn.execute(select(sessions.c.user_id))).scalars().all()
        assert user["id"] not in left


async def test_a_cli_token_planted_in_the_cookie_cannot_approve_through_the_pages(app) -> None:
    async with app() as a, a.client() as thief, a.client("10.0.0.2") as person:
        await page_sign_up(person)
        stolen = await cli_token(thief, person)
        fresh = await issue(thief)
        thief.cookies.set("better_skills_session", stolen)
        page = await thief.get(Paths.DEVICE_PAGE, params={"user_code": fresh["user_code"]})
        if page.status_code == 200 and 'name="csrf_token"' in page.text:
            await thief.post(
                "/device/approve",
                data={
                    "user_code": fresh["user_code"],
                    "csrf_token": hidden(page.text, "csrf_token"),
                },
                headers=ORIGIN,
            )
        answer = await poll(thief, fresh["device_code"])
        assert "access_token" not in answer.json()


CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
]


async def test_a_cross_site_lookup_never_claims_and_never_counts(app) -> None:
    """A top-level navigation from another site carries the SameSite=Lax cookie: before the
    fix it claimed the attacker's code into the victim's account and spent the victim's
    guessing budget."""
    async with (
        app(RATE_LIMIT_USER_CODE="2/15m") as a,
        a.client() as device,
        a.client("10.0.0.2") as victim,
    ):
        await sign_up(victim)
        code = await issue(device)
        for headers in CROSS_SITE:
            answer = await victim.get(
                Paths.DEVICE_VERIFY, params={"user_code": code["user_code"]}, headers=headers
            )
            assert assert_rfc_error(answer, 403)["error"] == "forbidden"
            for _ in range(3):  # wrong codes: nothing counted either
                wrong = await victim.get(
                    Paths.DEVICE_VERIFY, params={"user_code": "BCDF-BCDF"}, headers=headers
                )
                assert wrong.status_code == 403
        async with a.services.db.engine.connect() as conn:
            owner = (await conn.execute(select(device_codes.c.user_id))).scalar_one()
        assert owner is None
        # Same-origin callers still claim (protocol.md), and the budget is untouched.
        for headers in (
            {},
            {"Sec-Fetch-Site": "same-origin"},
            ORIGIN,
            {"Sec-Fetch-Site": "none"},
        ):
            ok = await victim.get(
                Paths.DEVICE_VERIFY, params={"user_code": code["user_code"]}, headers=headers
            )
            assert ok.status_code == 200 and ok.json()["client_id"], ok.text
        for _ in range(2):
            assert (await claim(victim, "BCDF-BCDF")).status_code == 400
        assert (await claim(victim, "BCDF-BCDF")).status_code == 429
