"""The whole device flow over real HTTP against a real server process."""

from __future__ import annotations

import sqlite3
import time

import pytest

from better_skills.protocol.device_flow import CLIENT_ID, DEFAULT_SCOPE, DEVICE_CODE_GRANT_TYPE
from tests.support.live_server import LiveServer


@pytest.mark.empty_database  # a first start: the server runs the migrations itself
def test_code_sign_up_claim_approve_poll_session_sign_out(live_server: LiveServer) -> None:
    with live_server.client() as device:
        issued = device.post(
            "/api/auth/device/code", json={"client_id": CLIENT_ID, "scope": DEFAULT_SCOPE}
        ).json()
        assert issued["verification_uri"] == f"{live_server.url}/device"
        poll = {
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": issued["device_code"],
            "client_id": CLIENT_ID,
        }
        pending = device.post("/api/auth/device/token", data=poll)
        assert pending.status_code == 400
        assert pending.json()["error"] == "authorization_pending"

        person = live_server.browser()
        person.sign_up("Ada Lovelace", "Ada@Example.com", "correct horse battery")
        claimed = person.claim(issued["user_code"].lower().replace("-", ""))
        assert claimed == {
            "user_code": issued["user_code"],
            "status": "pending",
            "client_id": CLIENT_ID,
            "scope": DEFAULT_SCOPE,
        }
        person.approve(issued["user_code"])

        time.sleep(1.05)  # the interval is 1 s on this server
        token = device.post("/api/auth/device/token", json=poll)
        assert token.status_code == 200, token.text
        body = token.json()
        assert body["token_type"] == "Bearer"
        assert 8 * 3600 - 5 <= body["expires_in"] <= 8 * 3600

        auth = {"Authorization": f"Bearer {body['access_token']}"}
        me = device.get("/api/auth/get-session", headers=auth).json()
        assert me["user"]["email"] == "ada@example.com"
        assert me["user"]["name"] == "Ada Lovelace"

        trpc = device.get("/trpc/me?batch=1&input=%7B%7D", headers=auth).json()
        assert trpc[0]["result"]["data"]["user"]["email"] == "ada@example.com"

        signed_out = device.post("/api/auth/sign-out", headers=auth).json()
        assert signed_out == {"success": True, "signed_out": True, "token_kind": "device"}
        assert device.get("/api/auth/get-session", headers=auth).json() is None
        again = device.post("/api/auth/device/token", json=poll)
        assert again.json()["error"] == "invalid_grant"
        person.close()

    if live_server.database_url.startswith("sqlite"):
        path = live_server.database_url.split(":///", 1)[1]
        dump = "\n".join(sqlite3.connect(path).iterdump())
        assert body["access_token"] not in dump
        assert issued["device_code"] not in dump
