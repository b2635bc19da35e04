"""Accounts and sessions: sign-up, sign-in, get-session, sign-out, expiry, last-used."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from better_skills.server.models import sessions, users
from tests.server.flow import ORIGIN, PASSWORD, approved_token, sign_up
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio


async def test_sign_up_normalises_the_email_and_hashes_with_argon2id(app_client) -> None:
    async with app_client() as client:
        body = await sign_up(client, email="  Ada@Example.COM ")
        assert body["user"]["email"] == "ada@example.com"
        assert body["user"]["emailVerified"] is False
        assert set(body["user"]) == {
            "id",
            "name",
            "email",
            "emailVerified",
            "image",
            "createdAt",
            "updatedAt",
        }
        assert body["user"]["createdAt"].endswith("Z")
        assert "better_skills_session" in client.cookies
        async with client.app.state.services.db.engine.connect() as conn:  # type: ignore[attr-defined]
            stored = (await conn.execute(select(users.c.password_hash))).scalar_one()
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored


async def test_the_server_hashes_at_rfc_9106_cost(settings_factory, clock) -> None:
    """Other tests inject a cheap cost; the application's own default is RFC 9106's
    low-memory profile (argon2id, 64 MiB, 3 passes, 4 lanes)."""
    import httpx

    from better_skills.server.app import create_app

    app = create_app(settings_factory(), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await sign_up(client)
        async with app.state.services.db.engine.connect() as conn:
            stored = (await conn.execute(select(users.c.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored


async def test_sign_up_cookie_is_httponly_and_lax(app_client) -> None:
    async with app_client() as client:
        response = await client.post(
            "/api/auth/sign-up/email",
            json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD},
        )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # PUBLIC_URL is http here


async def test_secure_cookie_when_public_url_is_https(app_client) -> None:
    async with app_client(PUBLIC_URL="https://skills.example.com") as client:
        response = await client.post(
            "/api/auth/sign-up/email",
            json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD},
        )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-better_skills_session=")
    assert "secure" in cookie.lower()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "Ada", "email": "not-an-email", "password": PASSWORD}, 400, "INVALID_EMAIL"),
        (
            {"name": "Ada", "email": "ada@example.com", "password": "short"},
            400,
            "PASSWORD_TOO_SHORT",
        ),
        ({"name": "   ", "email": "ada@example.com", "password": PASSWORD}, 400, "INVALID_NAME"),
    ],
)
async def test_sign_up_validation(app_client, body, status, code) -> None:
    async with app_client() as client:
        response = await client.post("/api/auth/sign-up/email", json=body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["error"] == "invalid_request"


async def test_duplicate_sign_up_is_a_clear_error(app_client) -> None:
    async with app_client() as first, app_client() as second:
        await sign_up(first, email="ada@example.com")
        response = await second.post(
            "/api/auth/sign-up/email",
            json={"name": "Ada", "email": "ADA@example.com", "password": PASSWORD},
        )
    assert response.status_code == 422
    assert response.json()["code"] == "USER_ALREADY_EXISTS"
    assert "already exists" in response.json()["message"]


async def test_sign_in_and_wrong_password(app_client) -> None:
    async with app_client() as client, app_client() as other:
        await sign_up(client)
        ok = await other.post(
            "/api/auth/sign-in/email", json={"email": "ADA@example.com", "password": PASSWORD}
        )
        assert ok.status_code == 200
        assert ok.json()["redirect"] is False
        assert ok.json()["token"]
        bad = await other.post(
            "/api/auth/sign-in/email",
            json={"email": "ada@example.com", "password": "wrong password"},
            headers=ORIGIN,
        )
        assert bad.status_code == 401
        assert bad.json()["code"] == "INVALID_EMAIL_OR_PASSWORD"
        unknown = await other.post(
            "/api/auth/sign-in/email",
            json={"email": "nobody@example.com", "password": "x" * 9},
            headers=ORIGIN,
        )
        assert unknown.status_code == 401
        assert unknown.json()["code"] == "INVALID_EMAIL_OR_PASSWORD"


async def test_get_session_bearer_cookie_and_null(app_client) -> None:
    async with app_client() as client, app_client() as device:
        token = (await sign_up(client))["token"]
        by_cookie = (await client.get("/api/auth/get-session")).json()
        assert by_cookie["user"]["email"] == "ada@example.com"
        for scheme in ("Bearer", "bearer", "BEARER"):
            by_bearer = await device.get(
                "/api/auth/get-session", headers={"Authorization": f"{scheme} {token}"}
            )
            assert by_bearer.json()["session"]["id"] == by_cookie["session"]["id"]
        assert set(by_cookie["session"]) == {
            "id",
            "userId",
            "expiresAt",
            "createdAt",
            "updatedAt",
            "ipAddress",
            "userAgent",
        }
        nothing = await device.get("/api/auth/get-session")
        assert nothing.status_code == 200
        assert nothing.json() is None
        wrong = await device.get("/api/auth/get-session", headers={"Authorization": "Bearer nope"})
        assert wrong.json() is None


async def test_sessions_expire_after_the_ttl(app_client, clock: FakeClock) -> None:
    async with app_client() as device, app_client() as person:
        await sign_up(person)
        token = (await approved_token(device, person))["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        clock.advance(8 * 3600 - 1)
        assert (await device.get("/api/auth/get-session", headers=auth)).json() is not None
        clock.advance(1)
        assert (await device.get("/api/auth/get-session", headers=auth)).json() is None


async def test_sign_out_ends_only_that_session(app_client) -> None:
    async with app_client() as device, app_client() as person:
        await sign_up(person)
        first = (await approved_token(device, person))["access_token"]
        second = (await approved_token(device, person))["access_token"]
        signed_out = await device.post(
            "/api/auth/sign-out", headers={"Authorization": f"Bearer {first}"}
        )
        assert signed_out.json() == {"success": True, "signed_out": True, "token_kind": "device"}
        assert (
            await device.get("/api/auth/get-session", headers={"Authorization": f"Bearer {first}"})
        ).json() is None
        assert (
            await device.get("/api/auth/get-session", headers={"Authorization": f"Bearer {second}"})
        ).json() is not None
        assert (await person.get("/api/auth/get-session")).json() is not None


async def test_cookie_sign_out_needs_a_trusted_origin(app_client) -> None:
    async with app_client() as person:
        await sign_up(person)
        refused = await person.post(
            "/api/auth/sign-out", headers={"Origin": "https://evil.example"}
        )
        assert refused.status_code == 403
        assert (await person.get("/api/auth/get-session")).json() is not None
        ok = await person.post("/api/auth/sign-out", headers=ORIGIN)
        assert ok.json() == {"success": True, "signed_out": True, "token_kind": "browser"}


async def test_last_used_is_written_at_most_once_a_minute(app_client, clock: FakeClock) -> None:
    async with app_client() as person:
        token = (await sign_up(person))["token"]
        db = person.app.state.services.db  # type: ignore[attr-defined]

        async def last_used() -> int:
            async with db.engine.connect() as conn:
                return (await conn.execute(select(sessions.c.last_used_at))).scalar_one()

        start = await last_used()
        auth = {"Authorization": f"Bearer {token}"}
        clock.advance(30)
        await person.get("/api/auth/get-session", headers=auth)
        assert await last_used() == start
        clock.advance(31)
        await person.get("/api/auth/get-session", headers=auth)
        assert await last_used() == start + 61_000
        clock.advance(10)
        await person.get("/api/auth/get-session", headers=auth)
        assert await last_used() == start + 61_000


async def test_a_burst_of_requests_records_last_use_once(app_client, clock: FakeClock) -> None:
    """Requests in flight together all see the stale minute; one UPDATE is enough."""
    async with app_client() as person:
        token = (await sign_up(person))["token"]
        db = person.app.state.services.db  # type: ignore[attr-defined]
        writes: list[object] = []
        statement = db.direct.statement

        async def counting(stmt, params, **kwargs):  # the real statement; writes counted
            if stmt.is_dml:
                writes.append(stmt)
                await asyncio.sleep(0.05)  # keep it in flight while the others arrive
            return await statement(stmt, params, **kwargs)

        db.direct.statement = counting
        clock.advance(61)
        auth = {"Authorization": f"Bearer {token}"}
        answers = await asyncio.gather(
            *(person.get("/api/auth/get-session", headers=auth) for _ in range(20))
        )
        assert all(a.json()["user"]["email"] for a in answers)
        assert len(writes) == 1


async def test_sign_out_tells_whether_it_ended_a_session(app_client, clock: FakeClock) -> None:
    """Issue 15 item 2: ``success`` stays true for better-auth clients; ``signed_out`` says
    whether a session really ended (before: the same answer for all of these)."""
    nothing = {"success": True, "signed_out": False, "token_kind": None}
    async with app_client() as device, app_client() as person:
        await sign_up(person)
        token = (await approved_token(device, person))["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        first = await device.post("/api/auth/sign-out", headers=auth)
        assert first.json()["signed_out"] is True
        assert (await device.post("/api/auth/sign-out", headers=auth)).json() == nothing
        garbage = {"Authorization": "Bearer not-a-session"}
        assert (await device.post("/api/auth/sign-out", headers=garbage)).json() == nothing
        assert (await device.post("/api/auth/sign-out")).json() == nothing
        # An expired session was already over: nothing is ended.
        late = (await approved_token(device, person))["access_token"]
        clock.advance(8 * 3600)
        expired = await device.post(
            "/api/auth/sign-out", headers={"Authorization": f"Bearer {late}"}
        )
        assert expired.json() == nothing
