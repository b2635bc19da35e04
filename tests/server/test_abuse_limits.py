"""Guessing limits on user codes and passwords, and the per-IP limit on issuing codes."""

from __future__ import annotations

import pytest

from tests.server.flow import ORIGIN, claim, issue, sign_up
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
WRONG = "BCDF-BCDF"


async def test_wrong_user_codes_are_limited_per_ip(app_client, clock: FakeClock) -> None:
    async with app_client(RATE_LIMIT_USER_CODE="10/15m") as client:
        code = await issue(client)
        for _ in range(10):
            assert (await claim(client, WRONG)).status_code == 400
        limited = await claim(client, WRONG)
        assert limited.status_code == 429
        assert limited.json()["error"] == "too_many_requests"
        assert 1 <= int(limited.headers["retry-after"]) <= 900
        # Even the right code is refused while the address is locked out.
        assert (await claim(client, code["user_code"])).status_code == 429
        clock.advance(15 * 60)
        assert (await claim(client, code["user_code"])).status_code == 200


async def test_wrong_user_codes_are_limited_per_account(app_client) -> None:
    settings = {"RATE_LIMIT_USER_CODE": "5/15m"}
    async with app_client(ip="10.0.0.1", **settings) as first:
        await sign_up(first)
        for _ in range(5):
            assert (await claim(first, WRONG)).status_code == 400
    async with app_client(ip="10.0.0.2", **settings) as second:
        token = (
            await second.post(
                "/api/auth/sign-in/email",
                json={"email": "ada@example.com", "password": "correct horse battery staple"},
            )
        ).json()["token"]
        response = await second.get(
            "/api/auth/device",
            params={"user_code": WRONG},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 429
        # Another person at the same new address is not locked out by Ada's account.
        second.cookies.clear()
        anonymous = await claim(second, WRONG)
        assert anonymous.status_code == 400


async def test_sign_in_failures_are_limited(app_client, clock: FakeClock) -> None:
    async with app_client(RATE_LIMIT_SIGN_IN="3/10m") as client:
        await sign_up(client, email="ada@example.com")
        client.cookies.clear()
        for _ in range(3):
            bad = await client.post(
                "/api/auth/sign-in/email",
                json={"email": "ada@example.com", "password": "not the password"},
            )
            assert bad.status_code == 401
        limited = await client.post(
            "/api/auth/sign-in/email",
            json={"email": "ada@example.com", "password": "correct horse battery staple"},
        )
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        clock.advance(600)
        ok = await client.post(
            "/api/auth/sign-in/email",
            json={"email": "ada@example.com", "password": "correct horse battery staple"},
            headers=ORIGIN,
        )
        assert ok.status_code == 200


async def test_code_issuance_is_limited_per_ip(app_client, clock: FakeClock) -> None:
    async with app_client(RATE_LIMIT_DEVICE_CODE="3/1m") as client:
        for _ in range(3):
            await issue(client)
        refused = await client.post(
            "/api/auth/device/code", json={"client_id": "better-skills-cli"}
        )
        assert refused.status_code == 429
        # A token bucket: one code comes back every 20 s (1 minute / 3), not a whole window.
        assert refused.headers["retry-after"] == "20"
        clock.advance(60)
        await issue(client)


async def test_sweep_removes_expired_codes_and_sessions(app_client, clock: FakeClock) -> None:
    from sqlalchemy import func, select

    from better_skills.server.models import device_codes, sessions

    async with app_client(DEVICE_CODE_TTL="60", SESSION_TTL="1h") as client:
        for _ in range(5):
            await issue(client)
        await sign_up(client)
        services = client.app.state.services  # type: ignore[attr-defined]
        clock.advance(30 * 60)
        removed = await services.device_flow.sweep()
        assert removed["device_codes"] == 5
        clock.advance(3600)
        assert (await services.device_flow.sweep())["sessions"] == 1
        async with services.db.engine.connect() as conn:
            for table in (device_codes, sessions):
                count = await conn.execute(select(func.count()).select_from(table))
                assert count.scalar_one() == 0
