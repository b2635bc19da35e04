"""The device flow endpoints, row by row of the wire contract (in process, fake clock)."""

from __future__ import annotations

import asyncio
import re

import pytest

from better_skills.protocol.device_flow import CLIENT_ID, DEVICE_CODE_GRANT_TYPE
from tests.server.flow import ORIGIN, claim, decide, error_of, issue, poll, sign_up
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio


async def test_device_code_answers_the_rfc_8628_fields(app_client) -> None:
    async with app_client() as client:
        response = await client.post(
            "/api/auth/device/code", json={"client_id": CLIENT_ID, "scope": "openid profile"}
        )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert len(body["device_code"]) >= 43  # 256 bits, URL-safe base64
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert body["verification_uri"] == "http://testserver/device"
    assert body["verification_uri_complete"] == (
        f"http://testserver/device?user_code={body['user_code']}"
    )
    assert body["expires_in"] == 1800
    assert body["interval"] == 5


async def test_device_code_accepts_a_form_body(app_client) -> None:
    async with app_client() as client:
        response = await client.post("/api/auth/device/code", data={"client_id": CLIENT_ID})
    assert response.status_code == 200
    assert isinstance(response.json()["interval"], int)


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"json": {}}, 400, "invalid_request"),
        ({"json": {"client_id": ""}}, 400, "invalid_request"),
        ({"json": {"client_id": "someone-else"}}, 400, "invalid_client"),
        ({"json": {"client_id": 42}}, 400, "invalid_request"),
        ({"json": {"client_id": CLIENT_ID, "extra": "x"}}, 400, "invalid_request"),
        ({"json": ["client_id"]}, 400, "invalid_request"),
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "invalid_request",
        ),
        (
            {
                "content": b"client_id=a&client_id=b",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            400,
            "invalid_request",
        ),
        (
            {
                "content": b"client_id=\xff\xfe",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            400,
            "invalid_request",
        ),
        (
            {"content": b"<xml/>", "headers": {"content-type": "application/xml"}},
            415,
            "invalid_request",
        ),
        (
            {"content": b"x" * (64 * 1024 + 1), "headers": {"content-type": "application/json"}},
            413,
            "invalid_request",
        ),
        (
            {"content": b"[" * 60000, "headers": {"content-type": "application/json"}},
            400,
            "invalid_request",
        ),
    ],
)
async def test_device_code_refuses_bad_input_with_an_rfc_error(
    app_client, kwargs, status, error
) -> None:
    async with app_client() as client:
        response = await client.post("/api/auth/device/code", **kwargs)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


async def test_token_errors_in_better_auth_order(app_client) -> None:
    async with app_client(CLIENT_IDS="better-skills-cli,other-client") as client:
        code = await issue(client)
        base = {
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": code["device_code"],
            "client_id": CLIENT_ID,
        }
        cases = [
            ({**base, "grant_type": "password"}, "unsupported_grant_type"),
            ({**base, "client_id": "nobody"}, "invalid_client"),
            ({**base, "device_code": "not-a-code"}, "invalid_grant"),
            ({**base, "client_id": "other-client"}, "invalid_grant"),
        ]
        for body, expected in cases:
            response = await client.post("/api/auth/device/token", data=body)
            assert response.status_code == 400
            assert error_of(response) == expected, body
        assert error_of(await poll(client, code["device_code"])) == "authorization_pending"


async def test_slow_down_grows_the_interval_by_five_seconds(app_client, clock: FakeClock) -> None:
    async with app_client() as client:
        code = await issue(client)
        assert error_of(await poll(client, code["device_code"])) == "authorization_pending"
        clock.advance(4.9)
        assert error_of(await poll(client, code["device_code"])) == "slow_down"  # interval 10
        clock.advance(9.9)
        assert error_of(await poll(client, code["device_code"])) == "slow_down"  # interval 15
        clock.advance(15)
        assert error_of(await poll(client, code["device_code"])) == "authorization_pending"
        clock.advance(14.9)
        assert error_of(await poll(client, code["device_code"])) == "slow_down"  # interval 20
        clock.advance(20)
        assert error_of(await poll(client, code["device_code"])) == "authorization_pending"


async def test_expired_code_answers_expired_token_once(app_client, clock: FakeClock) -> None:
    async with app_client(DEVICE_CODE_TTL="60") as client:
        code = await issue(client)
        assert code["expires_in"] == 60
        clock.advance(60)
        assert error_of(await poll(client, code["device_code"])) == "expired_token"
        clock.advance(10)
        assert error_of(await poll(client, code["device_code"])) == "invalid_grant"


async def test_denied_code_answers_access_denied_once(app_client, clock: FakeClock) -> None:
    async with app_client() as device, app_client() as person:
        code = await issue(device)
        await sign_up(person)
        assert (await claim(person, code["user_code"])).status_code == 200
        assert (await decide(person, code["user_code"], "deny")).json() == {"success": True}
        assert error_of(await poll(device, code["device_code"])) == "access_denied"
        clock.advance(5)
        assert error_of(await poll(device, code["device_code"])) == "invalid_grant"


async def test_approved_code_gives_one_session_token(app_client, clock: FakeClock) -> None:
    async with app_client(SESSION_TTL="2h") as device, app_client(SESSION_TTL="2h") as person:
        code = await issue(device)
        await sign_up(person)
        await claim(person, code["user_code"])
        await decide(person, code["user_code"])
        response = await poll(device, code["device_code"])
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body == {
            "access_token": body["access_token"],
            "token_type": "Bearer",
            "expires_in": 7200,
            "scope": "openid profile email",
        }
        clock.advance(5)
        assert error_of(await poll(device, code["device_code"])) == "invalid_grant"
        session = await device.get(
            "/api/auth/get-session", headers={"Authorization": f"bearer {body['access_token']}"}
        )
        assert session.json()["user"]["email"] == "ada@example.com"


async def test_concurrent_polls_after_approval_redeem_exactly_once(app_client) -> None:
    async with app_client() as device, app_client() as person:
        code = await issue(device)
        await sign_up(person)
        await claim(person, code["user_code"])
        await decide(person, code["user_code"])
        answers = await asyncio.gather(*(poll(device, code["device_code"]) for _ in range(20)))
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1
    assert {error_of(a) for a in answers if a.status_code != 200} <= {"invalid_grant", "slow_down"}


async def test_lookup_without_session_shows_status_only(app_client) -> None:
    async with app_client() as client:
        code = await issue(client)
        raw = code["user_code"].replace("-", " ").lower()
        response = await claim(client, raw)
    assert response.json() == {"user_code": code["user_code"], "status": "pending"}
    assert response.headers["cache-control"] == "no-store"


async def test_lookup_errors(app_client, clock: FakeClock) -> None:
    async with app_client(DEVICE_CODE_TTL="60") as client:
        missing = await claim(client, "BCDF-GHJK")
        assert missing.status_code == 400
        assert missing.json() == {
            "error": "invalid_request",
            "error_description": "Invalid user code",
        }
        code = await issue(client)
        clock.advance(61)
        assert error_of(await claim(client, code["user_code"])) == "expired_token"


async def test_approve_and_deny_rules(app_client, clock: FakeClock) -> None:
    async with app_client() as device, app_client() as ada, app_client() as bob:
        await sign_up(ada, "ada@example.com")
        await sign_up(bob, "bob@example.com")
        code = await issue(device)
        user_code = code["user_code"]

        anonymous = await decide(device, user_code)
        assert anonymous.status_code == 401
        assert error_of(anonymous) == "unauthorized"

        not_claimed = await decide(ada, user_code)
        assert not_claimed.status_code == 400
        assert error_of(not_claimed) == "invalid_request"

        assert (await claim(ada, user_code)).json()["client_id"] == CLIENT_ID
        stolen = await claim(bob, user_code)
        assert stolen.status_code == 403
        assert error_of(stolen) == "access_denied"
        other = await decide(bob, user_code)
        assert other.status_code == 403
        assert error_of(other) == "access_denied"
        for refused in (stolen, other):
            assert refused.json()["error_description"] == "This code was opened by another account."

        foreign = await ada.post(
            "/api/auth/device/approve",
            json={"userCode": user_code},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        no_origin = await ada.post("/api/auth/device/approve", json={"userCode": user_code})
        assert no_origin.status_code == 403

        snake = await ada.post(
            "/api/auth/device/approve", json={"user_code": user_code}, headers=ORIGIN
        )
        assert snake.json() == {"success": True}
        again = await decide(ada, user_code, "deny")
        assert again.status_code == 400
        assert error_of(again) == "invalid_request"
        assert (await claim(ada, user_code)).json()["status"] == "approved"

        late = await issue(device)
        await claim(ada, late["user_code"])
        clock.advance(1801)
        assert error_of(await decide(ada, late["user_code"])) == "expired_token"


async def test_bearer_sessions_may_approve_without_origin(app_client) -> None:
    async with app_client() as device, app_client() as person:
        token = (await sign_up(person))["token"]
        code = await issue(device)
        bearer = {"Authorization": f"Bearer {token}"}
        await device.get(
            "/api/auth/device", params={"user_code": code["user_code"]}, headers=bearer
        )
        response = await device.post(
            "/api/auth/device/approve", json={"userCode": code["user_code"]}, headers=bearer
        )
        assert response.json() == {"success": True}
