"""Polling floods and code floods (RFC 8628 §3.5, §5.2): ``slow_down``, bounded intervals,
no growth in database rows, a per-address issuance limit, and expired codes swept away."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest
from sqlalchemy import select, update

from better_skills.protocol.device_flow import CLIENT_ID, DEVICE_CODE_GRANT_TYPE, Paths
from better_skills.server.models import device_codes
from tests.security.helpers import assert_rfc_error, count_rows
from tests.server.flow import claim, decide, issue, poll, sign_up
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
#: Polls fired within one instant of the fake clock (FLOOD_POLLS=10000 for a longer run).
FLOOD = int(os.environ.get("FLOOD_POLLS", "1000"))
BATCH = 250


async def flood(client, device_code: str, total: int = FLOOD) -> list[str]:
    """``total`` polls, ``BATCH`` at a time, all in the same instant of the fake clock."""
    errors: list[str] = []
    for start in range(0, total, BATCH):
        answers = await asyncio.gather(
            *(poll(client, device_code) for _ in range(min(BATCH, total - start)))
        )
        for answer in answers:
            errors.append(assert_rfc_error(answer)["error"])
    return errors


async def interval_of(services, device_code: str) -> int:
    digest = services.hasher.device_code(device_code)
    async with services.db.engine.connect() as conn:
        row = await conn.execute(
            select(device_codes.c.poll_interval).where(device_codes.c.device_code_hash == digest)
        )
        return row.scalar_one()


async def test_thousands_of_polls_in_one_second_get_slow_down_and_write_no_rows(app) -> None:
    async with app() as a, a.client() as device, a.client("10.0.0.2") as person:
        await sign_up(person)
        code = await issue(device)
        before = await count_rows(a.services)
        errors = await flood(device, code["device_code"])
        after = await count_rows(a.services)
        assert errors.count("authorization_pending") == 1, errors[:5]
        assert errors.count("slow_down") == FLOOD - 1
        assert after == before, (before, after)
        # The interval grew by 5 s per slow_down for this code, up to the code's lifetime and
        # no further (unbounded, it overflowed on PostgreSQL: a 500 for every later poll).
        interval = await interval_of(a.services, code["device_code"])
        assert interval == min(5 + 5 * (FLOOD - 1), 1800)
        assert_rfc_error(await poll(device, code["device_code"]))
        # The flood hurt only the flooding code: another device still logs in as usual.
        other = await issue(device)
        await claim(person, other["user_code"])
        assert (await decide(person, other["user_code"])).status_code == 200
        token = await poll(device, other["device_code"])
        assert token.status_code == 200, token.text
        assert (await count_rows(a.services))["sessions"] == before["sessions"] + 1


async def test_a_flood_of_unknown_device_codes_changes_nothing(app) -> None:
    async with app() as a, a.client() as attacker:
        await issue(attacker)
        before = await count_rows(a.services)
        answers = await asyncio.gather(
            *(poll(attacker, secrets.token_urlsafe(32)) for _ in range(500))
        )
        assert {assert_rfc_error(r, 400)["error"] for r in answers} == {"invalid_grant"}
        assert await count_rows(a.services) == before


async def test_a_huge_stored_interval_is_not_a_500(app) -> None:
    """An interval near the top of a 32-bit integer once overflowed ``interval * 1000`` on
    PostgreSQL ("integer out of range", a 500 for every later poll of that code)."""
    async with app() as a, a.client() as device:
        code = await issue(device)
        async with a.services.db.engine.begin() as conn:
            await conn.execute(update(device_codes).values(poll_interval=2_147_483_000))
        for _ in range(3):
            response = await poll(device, code["device_code"])
            assert_rfc_error(response, 400)


async def test_issuance_is_limited_per_address_and_rows_stay_bounded(app, clock: FakeClock) -> None:
    env = {"RATE_LIMIT_DEVICE_CODE": "20/10m", "DEVICE_CODE_TTL": "5m"}
    async with app(**env) as a, a.client("198.51.100.9") as attacker:
        before = await count_rows(a.services)
        answers = await asyncio.gather(
            *(attacker.post(Paths.DEVICE_CODE, json={"client_id": CLIENT_ID}) for _ in range(200))
        )
        statuses = [r.status_code for r in answers]
        assert statuses.count(200) == 20, statuses
        assert statuses.count(429) == 180
        for response in answers:
            if response.status_code == 429:
                assert_rfc_error(response)
                assert 1 <= int(response.headers["retry-after"]) <= 600
        after = await count_rows(a.services)
        assert after["device_codes"] - before["device_codes"] == 20
        # Another address is not affected by this one's flood.
        async with a.client("203.0.113.1") as bystander:
            assert (
                await bystander.post(Paths.DEVICE_CODE, json={"client_id": CLIENT_ID})
            ).is_success
        # Expired codes (past a grace period) are swept, so the table does not keep them.
        clock.advance(5 * 60 + 10 * 60 + 1)
        removed = await a.services.device_flow.sweep()
        assert removed["device_codes"] == 21
        assert (await count_rows(a.services))["device_codes"] == 0


async def test_the_background_sweeper_empties_expired_codes(app, clock: FakeClock) -> None:
    """Not only ``sweep()`` works: the server runs it by itself every SWEEP_INTERVAL."""
    async with app(SWEEP_INTERVAL="50ms", DEVICE_CODE_TTL="1m") as a, a.client() as client:
        for _ in range(10):
            await issue(client)
        assert (await count_rows(a.services))["device_codes"] == 10
        clock.advance(60 + 10 * 60 + 1)
        for _ in range(100):  # up to 5 s of real time
            if (await count_rows(a.services))["device_codes"] == 0:
                break
            await asyncio.sleep(0.05)
        assert (await count_rows(a.services))["device_codes"] == 0


async def test_a_form_encoded_flood_gets_the_same_answers(app) -> None:
    """RFC 8628 clients poll with forms; the slow_down rule is the same."""
    async with app() as a, a.client() as device:
        code = await issue(device)
        body = {
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": code["device_code"],
            "client_id": CLIENT_ID,
        }
        answers = await asyncio.gather(
            *(device.post(Paths.DEVICE_TOKEN, data=body) for _ in range(200))
        )
        errors = [assert_rfc_error(r, 400)["error"] for r in answers]
        assert errors.count("authorization_pending") == 1
        assert errors.count("slow_down") == 199
