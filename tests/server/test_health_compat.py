"""Health, discovery, the tRPC shapes of the original CLI, and headers on every answer."""

from __future__ import annotations

import pytest

from better_skills import __version__
from better_skills.protocol.device_flow import DEVICE_CODE_GRANT_TYPE
from tests.server.flow import approved_token, sign_up

pytestmark = pytest.mark.anyio


async def test_health(app_client) -> None:
    async with app_client() as client:
        response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "database": "ok"}


async def test_oauth_metadata_names_the_endpoints(app_client) -> None:
    async with app_client() as client:
        meta = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["issuer"] == "http://testserver"
    assert meta["device_authorization_endpoint"] == "http://testserver/api/auth/device/code"
    assert meta["token_endpoint"] == "http://testserver/api/auth/device/token"
    assert meta["grant_types_supported"] == [DEVICE_CODE_GRANT_TYPE]


async def test_trpc_health_check(app_client) -> None:
    async with app_client() as client:
        batched = await client.get("/trpc/healthCheck?batch=1&input=%7B%7D")
        single = await client.get("/trpc/healthCheck")
    assert batched.json() == [{"result": {"data": "OK"}}]
    assert single.json() == {"result": {"data": "OK"}}


async def test_trpc_me(app_client) -> None:
    async with app_client() as device, app_client() as person:
        user = (await sign_up(person))["user"]
        token = (await approved_token(device, person))["access_token"]
        me = await device.get(
            "/trpc/me?batch=1&input=%7B%7D", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.json() == [
            {
                "result": {
                    "data": {"user": {"id": user["id"], "name": "Ada", "email": "ada@example.com"}}
                }
            }
        ]
        anonymous = await device.get("/trpc/me?batch=1&input=%7B%7D")
    assert anonymous.status_code == 401
    error = anonymous.json()[0]["error"]
    assert error["message"] == "Authentication required"
    assert error["code"] == -32001
    assert error["data"]["code"] == "UNAUTHORIZED"
    assert error["data"]["httpStatus"] == 401


async def test_security_headers_and_rfc_errors_everywhere(app_client) -> None:
    async with app_client() as client:
        for response in (
            await client.get("/api/health"),
            await client.get("/no/such/page"),
            await client.delete("/api/auth/device/code"),
        ):
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-content-type-options"] == "nosniff"
        assert (await client.get("/no/such/page")).json()["error"] == "not_found"
        assert (await client.delete("/api/auth/device/code")).status_code == 405


async def test_database_down_gives_503_and_health_says_so(app_client, monkeypatch) -> None:
    from better_skills.server.settings import MIGRATED_ENV

    monkeypatch.setenv(MIGRATED_ENV, "1")  # nothing to migrate: there is no database
    async with app_client(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none") as client:
        health = await client.get("/api/health")
        assert health.status_code == 503
        assert health.json()["database"] == "unavailable"
        code = await client.post("/api/auth/device/code", json={"client_id": "better-skills-cli"})
        assert code.status_code == 503
        assert code.json()["error"] == "temporarily_unavailable"
        assert "Traceback" not in code.text


async def test_health_pings_the_driver_direct_connections_too(app_client, backend) -> None:
    """The hot paths (sessions, device flow, rate limits) run through ``db.direct``, not the
    engine: when its connections are gone while the engine still answers, /api/health says
    "unavailable" (503), as the hot paths do, instead of "ok"."""
    broken = ["durable", "relaxed"] if backend == "postgres" else ["reader"]
    for which in broken:
        async with app_client() as client:
            assert (await client.get("/api/health")).status_code == 200
            db = client.app.state.services.db
            # The fault, under the running app: the engine's pool is left alone.
            if which == "reader":
                db.direct._reader_conn().close()  # SQLite: the read connection is closed
            else:
                db.direct._pools[which == "durable"].terminate()  # an asyncpg pool stopped
            await db.ping()  # the engine still answers
            health = await client.get("/api/health")
            assert health.status_code == 503, which
            assert health.json() == {
                "status": "error",
                "version": __version__,
                "database": "unavailable",
            }
            if which == "durable":  # the pool get-session reads through: 503 there too
                session = await client.get(
                    "/api/auth/get-session", headers={"Authorization": "Bearer " + "x" * 43}
                )
                assert session.status_code == 503, (which, session.text)
                assert session.json()["error"] == "temporarily_unavailable"
