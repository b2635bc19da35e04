"""Secrets are stored only as keyed hashes, and every step lands in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from better_skills.protocol.device_flow import normalize_user_code
from better_skills.server.models import audit_log, metadata
from better_skills.server.services import Caller
from tests.server.flow import ORIGIN, PASSWORD, claim, decide, issue, poll, sign_up

pytestmark = pytest.mark.anyio


async def dump_database(client) -> str:
    """Every value of every table as one string."""
    db = client.app.state.services.db
    parts = []
    async with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


async def test_the_database_never_holds_a_usable_secret(app_client) -> None:
    async with app_client() as device, app_client() as person:
        browser_token = (await sign_up(person))["token"]
        code = await issue(device)
        await claim(person, code["user_code"])
        await decide(person, code["user_code"])
        access_token = (await poll(device, code["device_code"])).json()["access_token"]
        dump = await dump_database(device)
    for secret in (
        browser_token,
        access_token,
        code["device_code"],
        code["user_code"],
        normalize_user_code(code["user_code"]),
        PASSWORD,
    ):
        assert secret not in dump


async def test_every_step_is_audited(app_client, clock) -> None:
    async with app_client() as device, app_client() as person:
        user = (await sign_up(person))["user"]
        code = await issue(device)
        await claim(person, code["user_code"])
        await decide(person, code["user_code"])
        token = (await poll(device, code["device_code"])).json()["access_token"]
        denied = await issue(device)
        await claim(person, denied["user_code"])
        await decide(person, denied["user_code"], "deny")
        await device.post("/api/auth/sign-out", headers={"Authorization": f"Bearer {token}"})
        session_id = (await person.get("/api/auth/get-session")).json()["session"]["id"]
        services = person.app.state.services  # type: ignore[attr-defined]
        await services.sessions.revoke(user["id"], session_id, Caller(ip="127.0.0.1"))
        signed_in = await person.post(
            "/api/auth/sign-in/email",
            json={"email": "ada@example.com", "password": PASSWORD},
            headers=ORIGIN,
        )
        assert signed_in.status_code == 200, signed_in.text
        async with services.db.engine.connect() as conn:
            rows = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).all()
    events = [row.event for row in rows]
    for expected in (
        "sign_up",
        "sign_in",
        "issue",
        "claim",
        "approve",
        "redeem",
        "deny",
        "sign_out",
        "revoke",
    ):
        assert expected in events, events
    redeem = next(row for row in rows if row.event == "redeem")
    assert redeem.user_id == user["id"]
    assert redeem.client_id == "better-skills-cli"
    assert redeem.ip_address == "127.0.0.1"
    # Sign-up signs in too: the explicit sign-in is the second row.
    assert events.count("sign_in") == 2, events
    # Each row carries the service clock's time (the fake clock stood still).
    assert {row.at for row in rows} == {int(clock() * 1000)}
