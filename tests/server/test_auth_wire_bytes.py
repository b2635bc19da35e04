"""The /api/auth answers byte for byte: better-auth's key order, camelCase, ISO times.

The shapes are declared by ``server/auth_schemas.py`` and built from the services' records;
these tests pin the exact bytes a better-auth client receives, so a change of model, alias
or encoder shows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from better_skills.server.auth_schemas import GetSessionJson, session_json
from better_skills.server.services.auth_records import Session, User
from better_skills.server.services.sessions import SessionView
from tests.server.flow import ORIGIN, PASSWORD
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio

AGENT = {"User-Agent": "wire-test/1.0"}


def compact(value: object) -> str:
    """JSON as the server encodes it: compact, UTF-8 (no ASCII escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def iso(epoch_s: float) -> str:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def test_sign_up_sign_in_and_get_session_bytes(app_client, clock: FakeClock) -> None:
    start = clock()
    async with app_client() as client:
        signed_up = await client.post(
            "/api/auth/sign-up/email",
            json={"name": "Ada Lovelace ✓", "email": "ada@example.com", "password": PASSWORD},
            headers={**ORIGIN, **AGENT},
        )
        assert signed_up.status_code == 200, signed_up.text
        up = signed_up.json()
        user_id = up["user"]["id"]
        user = {
            "id": user_id,
            "name": "Ada Lovelace ✓",
            "email": "ada@example.com",
            "emailVerified": False,
            "image": None,
            "createdAt": iso(start),
            "updatedAt": iso(start),
        }
        assert signed_up.text == compact({"token": up["token"], "user": user})

        clock.advance(1.5)
        signed_in = await client.post(
            "/api/auth/sign-in/email",
            json={"email": "ada@example.com", "password": PASSWORD},
            headers={**ORIGIN, **AGENT},
        )
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["token"]
        assert signed_in.text == compact({"redirect": False, "token": token, "user": user})

        clock.advance(0.25)
        client.cookies.clear()
        got = await client.get(
            "/api/auth/get-session", headers={"Authorization": f"Bearer {token}", **AGENT}
        )
        session_id = got.json()["session"]["id"]
        session = {
            "id": session_id,
            "userId": user_id,
            "expiresAt": iso(start + 1.5 + 8 * 3600),
            "createdAt": iso(start + 1.5),
            "updatedAt": iso(start + 1.5),
            "ipAddress": "127.0.0.1",
            "userAgent": "wire-test/1.0",
        }
        assert got.text == compact({"session": session, "user": user})
        assert got.headers["content-type"] == "application/json"


async def test_get_session_with_an_access_token_bytes(app_client, clock: FakeClock) -> None:
    """A personal access token looks like a session: its update time is its creation time,
    and it carries no address or agent."""
    start = clock()
    async with app_client() as client:
        signed = (
            await client.post(
                "/api/auth/sign-up/email",
                json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD},
                headers=ORIGIN,
            )
        ).json()
        client.cookies.clear()
        clock.advance(2)
        made = await client.post(
            "/api/v1/tokens",
            json={"name": "ci", "expires_in_days": 30},
            headers={"Authorization": f"Bearer {signed['token']}"},
        )
        assert made.status_code == 201, made.text
        got = await client.get(
            "/api/auth/get-session", headers={"Authorization": f"Bearer {made.json()['token']}"}
        )
        session = {
            "id": made.json()["id"],
            "userId": signed["user"]["id"],
            "expiresAt": iso(start + 2 + 30 * 86400),
            "createdAt": iso(start + 2),
            "updatedAt": iso(start + 2),
            "ipAddress": None,
            "userAgent": None,
        }
        assert got.text == compact({"session": session, "user": signed["user"]})


# Every character but lone surrogates (no stored name, email or header can hold one).
wire_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(name=wire_text, email=wire_text, agent=st.none() | wire_text)
def test_get_session_is_what_its_schema_says_for_any_text(
    name: str, email: str, agent: str | None
) -> None:
    """get-session's answer is built from the schema's fields without validating a model
    (a hot path): it must equal the model's own dump, and encode as expected."""
    user = User("u1", name, email, True, agent, 1_700_000_000_123, 1_700_000_000_999)
    session = Session("s1", "u1", 1_700_000_000_001, 0, 1, agent, agent)
    view = SessionView(session=session, user=user)
    expected = {
        "session": {
            "id": "s1",
            "userId": "u1",
            "expiresAt": "2023-11-14T22:13:20.001Z",
            "createdAt": "1970-01-01T00:00:00.000Z",
            "updatedAt": "1970-01-01T00:00:00.001Z",
            "ipAddress": agent,
            "userAgent": agent,
        },
        "user": {
            "id": "u1",
            "name": name,
            "email": email,
            "emailVerified": True,
            "image": agent,
            "createdAt": "2023-11-14T22:13:20.123Z",
            "updatedAt": "2023-11-14T22:13:20.999Z",
        },
    }
    built = session_json(view)
    assert built == expected
    assert built == GetSessionJson.model_validate(view).model_dump(by_alias=True)
    assert compact(built) == GetSessionJson.model_validate(view).model_dump_json(by_alias=True)
