"""Helpers for in-process API tests: issue codes, poll, sign people up."""

from __future__ import annotations

from typing import Any

import httpx

from better_skills.protocol.device_flow import CLIENT_ID, DEFAULT_SCOPE, DEVICE_CODE_GRANT_TYPE

ORIGIN = {"Origin": "http://testserver"}
PASSWORD = "correct horse battery staple"


async def issue(client: httpx.AsyncClient, **fields: str) -> dict[str, Any]:
    body = {"client_id": CLIENT_ID, "scope": DEFAULT_SCOPE, **fields}
    response = await client.post("/api/auth/device/code", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def poll(
    client: httpx.AsyncClient, device_code: str, client_id: str = CLIENT_ID
) -> httpx.Response:
    return await client.post(
        "/api/auth/device/token",
        json={
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": device_code,
            "client_id": client_id,
        },
    )


def error_of(response: httpx.Response) -> str:
    return response.json()["error"]


async def sign_up(
    client: httpx.AsyncClient, email: str = "ada@example.com", name: str = "Ada"
) -> dict[str, Any]:
    response = await client.post(
        "/api/auth/sign-up/email",
        json={"name": name, "email": email, "password": PASSWORD},
        headers=ORIGIN,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def claim(client: httpx.AsyncClient, user_code: str) -> httpx.Response:
    return await client.get("/api/auth/device", params={"user_code": user_code})


async def decide(
    client: httpx.AsyncClient, user_code: str, verb: str = "approve"
) -> httpx.Response:
    return await client.post(
        f"/api/auth/device/{verb}", json={"userCode": user_code}, headers=ORIGIN
    )


async def approved_token(client: httpx.AsyncClient, person: httpx.AsyncClient) -> dict[str, Any]:
    """Run one whole flow; ``client`` is the device, ``person`` a signed-in browser."""
    code = await issue(client)
    assert (await claim(person, code["user_code"])).status_code == 200
    assert (await decide(person, code["user_code"])).status_code == 200
    response = await poll(client, code["device_code"])
    assert response.status_code == 200, response.text
    return response.json()
