"""Attacks on the device flow itself: replaying codes and tokens, redeeming with another
client, taking over or blocking a code another person opened, remote phishing (RFC 8628
§5.3-§5.5)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from better_skills.protocol.device_flow import CLIENT_ID, DEVICE_CODE_GRANT_TYPE, Paths
from tests.security.helpers import (
    a_code_and_two_people,
    assert_page_error,
    assert_rfc_error,
    hidden,
    page_sign_up,
)
from tests.server.flow import ORIGIN, claim, decide, issue, poll, sign_up
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
OTHER_CLIENT = "other-app"


async def approved(device, person) -> dict:
    code = await issue(device)
    assert (await claim(person, code["user_code"])).status_code == 200
    assert (await decide(person, code["user_code"])).status_code == 200
    return code


async def test_a_redeemed_device_code_is_dead_forever(app, clock: FakeClock) -> None:
    async with app() as a, a.client() as device, a.client("10.0.0.2") as person:
        await sign_up(person)
        code = await approved(device, person)
        first = await poll(device, code["device_code"])
        assert first.status_code == 200
        token = first.json()["access_token"]
        for step in range(6):
            clock.advance(10 if step % 2 else 3600)  # never slow_down, then past the TTL
            replay = await poll(device, code["device_code"])
            assert assert_rfc_error(replay, 400)["error"] == "invalid_grant"
            assert token not in replay.text
        # Variants of the code are not it.
        for variant in (
            code["device_code"].upper(),
            code["device_code"] + " ",
            " " + code["device_code"],
            code["device_code"][:-1],
        ):
            assert assert_rfc_error(await poll(device, variant))["error"] == "invalid_grant"
        # Approving the same user code again does not mint a second token.
        assert (await decide(person, code["user_code"])).status_code in (400, 401)


async def test_parallel_replays_after_approval_mint_one_token(app) -> None:
    async with app() as a, a.client() as device, a.client("10.0.0.2") as person:
        await sign_up(person)
        code = await approved(device, person)
        answers = await asyncio.gather(*(poll(device, code["device_code"]) for _ in range(40)))
        winners = [r for r in answers if r.status_code == 200]
        assert len(winners) == 1
        for loser in answers:
            if loser.status_code != 200:
                assert assert_rfc_error(loser)["error"] in ("invalid_grant", "slow_down")
        sessions = await a.services.sessions.list_for_user(
            (await person.get(Paths.GET_SESSION)).json()["user"]["id"]
        )
        assert [s.kind for s in sessions].count("device") == 1


async def test_a_signed_out_token_cannot_be_replayed(app) -> None:
    async with app() as a, a.client() as device, a.client("10.0.0.2") as person:
        await sign_up(person)
        code = await approved(device, person)
        token = (await poll(device, code["device_code"])).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await device.post(Paths.SIGN_OUT, headers=bearer)).json()["signed_out"] is True
        assert (await device.get(Paths.GET_SESSION, headers=bearer)).json() is None
        assert (await device.get("/trpc/me", headers=bearer)).status_code == 401
        approve = await device.post(
            Paths.DEVICE_APPROVE, json={"userCode": code["user_code"]}, headers=bearer
        )
        assert assert_rfc_error(approve, 401)["error"] == "unauthorized"


async def test_another_client_cannot_redeem_the_code(app) -> None:
    """RFC 8628 §3.4: the code is bound to the client that asked for it. A poll with another
    known client id is invalid_grant and leaves the code untouched for its own client."""
    env = {"CLIENT_IDS": f"{CLIENT_ID},{OTHER_CLIENT}"}
    async with app(**env) as a, a.client() as device, a.client("10.0.0.2") as person:
        await sign_up(person)
        code = await approved(device, person)
        for client_id in (OTHER_CLIENT, OTHER_CLIENT, CLIENT_ID.upper(), CLIENT_ID + " "):
            stolen = await poll(device, code["device_code"], client_id=client_id)
            assert assert_rfc_error(stolen, 400)["error"] in ("invalid_grant", "invalid_client")
            assert "access_token" not in stolen.text
        unknown = await poll(device, code["device_code"], client_id="evil-app")
        assert assert_rfc_error(unknown, 400)["error"] == "invalid_client"
        missing = await device.post(
            Paths.DEVICE_TOKEN,
            json={"grant_type": DEVICE_CODE_GRANT_TYPE, "device_code": code["device_code"]},
        )
        assert assert_rfc_error(missing, 400)["error"] == "invalid_request"
        # The failed attempts neither consumed the code nor tripped slow_down for its owner.
        mine = await poll(device, code["device_code"])
        assert mine.status_code == 200, mine.text


async def test_a_code_opened_by_someone_else_cannot_be_approved_denied_or_taken(app) -> None:
    async with a_code_and_two_people(app, sign_up) as (device, ada, mallory, code):
        assert (await claim(ada, code["user_code"])).status_code == 200
        # Mallory learns the code (over the shoulder, from a screenshot) and tries everything.
        assert assert_rfc_error(await claim(mallory, code["user_code"]), 403)["error"] == (
            "access_denied"
        )
        for verb in ("approve", "deny"):
            response = await decide(mallory, code["user_code"], verb)
            assert assert_rfc_error(response, 403)["error"] == "access_denied"
        # The code is still pending and still Ada's: Mallory could neither take nor kill it.
        assert (await claim(ada, code["user_code"])).json()["status"] == "pending"
        pending = await poll(device, code["device_code"])
        assert assert_rfc_error(pending)["error"] == "authorization_pending"
        assert (await decide(ada, code["user_code"])).status_code == 200


async def test_a_race_to_open_a_code_has_one_winner(app) -> None:
    async with app() as a, AsyncExitStack() as stack:
        people = [await stack.enter_async_context(a.client(f"10.0.1.{i}")) for i in range(8)]
        for i, person in enumerate(people):
            await sign_up(person, f"p{i}@example.com")
        device = await stack.enter_async_context(a.client())
        code = await issue(device)
        answers = await asyncio.gather(*(claim(p, code["user_code"]) for p in people))
        statuses = [r.status_code for r in answers]
        assert sorted(statuses) == [200] + [403] * 7
        winner = people[statuses.index(200)]
        for person in people:
            response = await decide(person, code["user_code"])
            assert response.status_code == (200 if person is winner else 403)


async def test_a_code_must_be_opened_before_it_can_be_approved(app) -> None:
    """Approve is a second, deliberate step: a forged approve without the look-up fails."""
    async with app() as a, a.client() as device, a.client("10.0.0.2") as person:
        await sign_up(person)
        code = await issue(device)
        refused = await decide(person, code["user_code"])
        assert assert_rfc_error(refused, 400)["error"] == "invalid_request"
        assert assert_rfc_error(await poll(device, code["device_code"]))["error"] == (
            "authorization_pending"
        )


async def test_the_approval_page_shows_who_is_asking(app) -> None:
    """Remote phishing (RFC 8628 §5.4): the person sees the requesting device's address,
    agent, client, scope and time next to their own address, and a warning, before approving."""
    async with (
        app() as a,
        a.client("203.0.113.77") as device,
        a.client("198.51.100.20") as person,
    ):
        issued = await device.post(
            Paths.DEVICE_CODE,
            json={"client_id": CLIENT_ID, "scope": "openid profile email"},
            headers={"User-Agent": "curl/8.0 (attacker box)"},
        )
        code = issued.json()
        await page_sign_up(person)
        page = await person.get("/device", params={"user_code": code["user_code"]})
        assert page.status_code == 200
        text = page.text
        for shown in ("203.0.113.77", "198.51.100.20", "curl/8.0 (attacker box)", CLIENT_ID):
            assert shown in text, shown
        assert "Never approve a code you did not request" in text
        assert code["user_code"] in text
        # Approving needs the page's own CSRF token and our Origin.
        assert hidden(text, "csrf_token")


async def test_a_foreign_person_cannot_approve_through_the_pages(app) -> None:
    async with a_code_and_two_people(app, page_sign_up) as (device, ada, mallory, code):
        # Looking only shows; Ada claims the code with the entry form's Continue.
        assert (await ada.get("/device", params={"user_code": code["user_code"]})).is_success
        entry = await ada.get("/device")
        claimed = await ada.post(
            "/device",
            data={"user_code": code["user_code"], "csrf_token": hidden(entry.text, "csrf_token")},
            headers=ORIGIN,
        )
        assert claimed.status_code == 303
        account = await mallory.get("/account")
        taken = await mallory.post(
            "/device",
            data={"user_code": code["user_code"], "csrf_token": hidden(account.text, "csrf_token")},
            headers=ORIGIN,
        )
        assert_page_error(taken, 403)
        forged = await mallory.post(
            "/device/approve",
            data={"user_code": code["user_code"], "csrf_token": hidden(account.text, "csrf_token")},
            headers=ORIGIN,
        )
        assert_page_error(forged, 403)
        assert assert_rfc_error(await poll(device, code["device_code"]))["error"] == (
            "authorization_pending"
        )
