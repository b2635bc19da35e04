"""Personal access tokens: /api/v1/tokens, use as a bearer token, expiry, revocation."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from better_skills.server.models import access_tokens
from better_skills.server.services import Caller
from tests.server.flow import ORIGIN, approved_token, sign_up
from tests.server.test_at_rest_and_audit import dump_database
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio
TOKENS = "/api/v1/tokens"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create(client, auth: dict[str, str], name: str = "ci", days: int = 30):
    return await client.post(TOKENS, json={"name": name, "expires_in_days": days}, headers=auth)


async def test_a_token_is_shown_once_listed_without_its_secret_and_works_as_bearer(
    app_client, clock: FakeClock
) -> None:
    async with app_client() as client:
        session = (await sign_up(client))["token"]
        client.cookies.clear()
        made = await create(client, bearer(session), name="build server", days=30)
        assert made.status_code == 201, made.text
        body = made.json()
        assert set(body) == {"id", "name", "token", "created_at", "expires_at"}
        assert body["token"].startswith("bsk_") and len(body["token"]) > 40
        assert str(uuid.UUID(body["id"])) == body["id"]
        assert body["name"] == "build server"
        assert body["expires_at"].endswith("Z")
        assert "no-store" in made.headers["cache-control"]

        me = await client.get("/api/auth/get-session", headers=bearer(body["token"]))
        assert me.json()["user"]["email"] == "ada@example.com"
        assert me.json()["session"]["id"] == body["id"]
        trpc = await client.get("/trpc/me?batch=1&input=%7B%7D", headers=bearer(body["token"]))
        assert trpc.json()[0]["result"]["data"]["user"]["email"] == "ada@example.com"

        listed = (await client.get(TOKENS, headers=bearer(session))).json()["items"]
        assert listed == [
            {
                "id": body["id"],
                "name": "build server",
                "created_at": body["created_at"],
                "expires_at": body["expires_at"],
                "last_used_at": body["created_at"],
            }
        ]
        assert body["token"] not in str(listed)
        assert body["token"] not in await dump_database(client)
        # The token itself may list its siblings (it is the account's credential).
        assert (await client.get(TOKENS, headers=bearer(body["token"]))).status_code == 200

        # Expiry: the token stops working when its days are over.
        clock.advance(30 * 86400 + 1)
        gone = await client.get("/api/auth/get-session", headers=bearer(body["token"]))
        assert gone.json() is None


async def test_last_use_is_recorded(app_client, clock: FakeClock) -> None:
    async with app_client() as client:
        signed = await sign_up(client)
        made = (await create(client, bearer(signed["token"]))).json()
        tokens = client.app.state.services.tokens  # type: ignore[attr-defined]
        assert (await tokens.list_for_user(signed["user"]["id"]))[0].last_used_at is None
        clock.advance(120)
        await client.get("/api/auth/get-session", headers=bearer(made["token"]))
        info = (await tokens.list_for_user(signed["user"]["id"]))[0]
        assert info.last_used_at == int(clock() * 1000)


async def test_revoked_tokens_stop_working_at_once_and_others_are_404(app_client) -> None:
    async with app_client(ip="10.0.0.2") as ada, app_client(ip="10.0.0.3") as eve:
        ada_session = (await sign_up(ada))["token"]
        eve_session = (await sign_up(eve, email="eve@example.com", name="Eve"))["token"]
        made = (await create(ada, bearer(ada_session))).json()
        # Eve can neither see nor revoke Ada's token: 404, as for one that does not exist.
        assert (await eve.get(TOKENS, headers=bearer(eve_session))).json() == {"items": []}
        other = await eve.delete(f"{TOKENS}/{made['id']}", headers=bearer(eve_session))
        assert other.status_code == 404 and other.json()["error"] == "not_found"
        assert (await eve.delete(f"{TOKENS}/{uuid.uuid4()}", headers=bearer(eve_session))).json()[
            "error"
        ] == "not_found"
        assert (
            await eve.delete(f"{TOKENS}/not-a-uuid", headers=bearer(eve_session))
        ).status_code == 404
        works = await ada.get("/api/auth/get-session", headers=bearer(made["token"]))
        assert works.json() is not None

        gone = await ada.delete(f"{TOKENS}/{made['id']}", headers=bearer(ada_session))
        assert gone.status_code == 204 and gone.content == b""
        dead = await ada.get("/api/auth/get-session", headers=bearer(made["token"]))
        assert dead.json() is None
        assert (await ada.get(TOKENS, headers=bearer(made["token"]))).status_code == 401
        again = await ada.delete(f"{TOKENS}/{made['id']}", headers=bearer(ada_session))
        assert again.status_code == 404


async def test_without_credentials_every_endpoint_is_401(app_client) -> None:
    async with app_client() as client:
        for response in (
            await client.get(TOKENS),
            await client.post(TOKENS, json={"name": "x", "expires_in_days": 1}),
            await client.delete(f"{TOKENS}/{uuid.uuid4()}"),
            await client.get(TOKENS, headers=bearer("bsk_" + "x" * 43)),
            await client.get(TOKENS, headers=bearer("not-a-token")),
        ):
            assert response.status_code == 401, response.text
            assert response.json()["error"] == "unauthorized"
            assert response.json()["error_description"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "ci", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ci", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "ci", "expires_in_days": "30"}, "expires_in_days"),
        ({"name": "ci", "expires_in_days": True}, "expires_in_days"),
        ({"name": "ci", "expires_in_days": 1.5}, "expires_in_days"),
        ({"name": "ci"}, "expires_in_days"),
        ({"name": "", "expires_in_days": 1}, "name"),
        ({"name": "\u202e\u200b ", "expires_in_days": 1}, "name"),
        ({"name": "x" * 101, "expires_in_days": 1}, "name"),
        ({"name": 7, "expires_in_days": 1}, "name"),
        ({"expires_in_days": 1}, "name"),
    ],
)
async def test_bad_fields_are_validation_failed(app_client, body, path) -> None:
    async with app_client() as client:
        session = (await sign_up(client))["token"]
        client.cookies.clear()
        response = await client.post(TOKENS, json=body, headers=bearer(session))
        assert response.status_code == 400, response.text
        error = response.json()
        assert error["error"] == "validation_failed"
        assert error["details"][0]["path"] == path
        for bad_body, headers, status in (
            (b"{", {"Content-Type": "application/json"}, 400),
            (b"[]", {"Content-Type": "application/json"}, 400),
            (
                b'{"name": "a", "expires_in_days": 1, "x": 1}',
                {"Content-Type": "application/json"},
                400,
            ),
            (
                b"name=a&expires_in_days=1",
                {"Content-Type": "application/x-www-form-urlencoded"},
                415,
            ),
        ):
            refused = await client.post(
                TOKENS, content=bad_body, headers={**headers, **bearer(session)}
            )
            assert refused.status_code == status, refused.text
            assert refused.json()["error"] in ("invalid_request", "unsupported_media_type")


async def test_names_lose_control_characters(app_client) -> None:
    async with app_client() as client:
        session = (await sign_up(client))["token"]
        made = await create(client, bearer(session), name="laptop\u202e\u200b  (ci)\u0007")
        assert made.json()["name"] == "laptop (ci)"


async def test_only_a_browser_session_can_create_a_token(app_client) -> None:
    """A stolen CLI token (or a token) must not mint a year-long token that outlives it."""
    async with app_client() as device, app_client(ip="10.0.0.2") as person:
        session = (await sign_up(person))["token"]
        cli = (await approved_token(device, person))["access_token"]
        refused = await create(device, bearer(cli))
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        pat = (await create(person, bearer(session))).json()["token"]
        assert (await create(device, bearer(pat))).status_code == 403
        # A device token or access token planted in the session cookie is no session at all.
        device.cookies.set("better_skills_session", cli)
        assert (await create(device, ORIGIN)).status_code == 401
        device.cookies.set("better_skills_session", pat)
        assert (await create(device, ORIGIN)).status_code == 401
        # The browser's own cookie works, from our origin only.
        assert (await create(person, {})).status_code == 403
        assert (await create(person, {"Origin": "https://evil.example"})).status_code == 403
        assert (await create(person, ORIGIN)).status_code == 201
        # Listing by cookie is a safe method: no Origin needed.
        assert len((await person.get(TOKENS)).json()["items"]) == 2


async def test_sign_out_with_a_token_keeps_it_and_says_so(app_client) -> None:
    async with app_client() as client:
        session = (await sign_up(client))["token"]
        pat = (await create(client, bearer(session))).json()["token"]
        client.cookies.clear()
        out = await client.post("/api/auth/sign-out", headers=bearer(pat))
        assert out.json() == {"success": True, "signed_out": False, "token_kind": "access_token"}
        assert (await client.get("/api/auth/get-session", headers=bearer(pat))).json()


async def test_the_service_lists_creates_and_revokes(app_client) -> None:
    """The API the /account page uses (services.tokens)."""
    async with app_client() as client:
        await sign_up(client)
        services = client.app.state.services  # type: ignore[attr-defined]
        token = client.cookies["better_skills_session"]
        view = await services.sessions.lookup(token, kinds=("browser",))
        assert view is not None and view.kind == "browser" and view.is_browser
        new = await services.tokens.create(view, "laptop", 7, Caller(ip="127.0.0.1"))
        assert new.token.startswith("bsk_")
        listed = await services.tokens.list_for_user(view.user.id)
        assert [t.id for t in listed] == [new.id]
        pat_view = await services.sessions.lookup(new.token)
        assert pat_view.kind == "access_token" and not pat_view.is_browser
        assert await services.sessions.lookup(new.token, kinds=("browser",)) is None
        assert await services.tokens.revoke(view.user.id, new.id, Caller()) is True
        assert await services.tokens.revoke(view.user.id, new.id, Caller()) is False
        async with services.db.engine.connect() as conn:
            assert (await conn.execute(select(access_tokens))).all() == []
