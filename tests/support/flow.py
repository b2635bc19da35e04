"""The device flow and sign-up, step by step, for every test: in process (async, on an
``httpx.AsyncClient`` of the application) and against a server process (sync, on its URL)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx

from better_skills.protocol.device_flow import (
    CLIENT_ID,
    DEFAULT_SCOPE,
    DEVICE_CODE_GRANT_TYPE,
    Paths,
)

SITE = "http://testserver"
ORIGIN = {"Origin": SITE}
PASSWORD = "correct horse battery staple"


def hidden(html: str, name: str) -> str:
    """The value of a hidden form field."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r}"
    return unescape(match.group(1))


# -- Against a server process -------------------------------------------------------------


def issue_at(url: str, **fields: str) -> dict[str, Any]:
    """A device code from the server at ``url`` (a form body, as RFC 8628 clients send)."""
    body = {"client_id": CLIENT_ID, **fields}
    response = httpx.post(url + Paths.DEVICE_CODE, data=body, timeout=20)
    assert response.status_code == 200, response.text
    return response.json()


def poll_at(url: str, device_code: str) -> httpx.Response:
    """One token request for ``device_code`` at ``url``."""
    return httpx.post(
        url + Paths.DEVICE_TOKEN,
        data={
            "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": device_code,
            "client_id": CLIENT_ID,
        },
        timeout=20,
    )


# -- In process ---------------------------------------------------------------------------


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
