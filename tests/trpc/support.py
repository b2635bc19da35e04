"""Calling ``/trpc`` exactly as the original CLI's batching link does (original-system.md §0)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from tests.vault.support import Person


async def query(
    client: httpx.AsyncClient, path: str, data: Any = None, who: Person | None = None
) -> httpx.Response:
    """``GET /trpc/<path>?batch=1&input={"0": data}``."""
    encoded = quote(json.dumps({"0": data} if data is not None else {}), safe="")
    return await client.get(
        f"/trpc/{path}?batch=1&input={encoded}", headers=who.auth if who else {}
    )


async def mutate(
    client: httpx.AsyncClient, path: str, data: Any = None, who: Person | None = None
) -> httpx.Response:
    """``POST /trpc/<path>?batch=1`` with body ``{"0": data}``."""
    return await client.post(
        f"/trpc/{path}?batch=1",
        content=json.dumps({"0": data} if data is not None else {}),
        headers={"Content-Type": "application/json", **(who.auth if who else {})},
    )


def data_of(response: httpx.Response) -> Any:
    """The one result of a batch of one, asserting success."""
    assert response.status_code == 200, (response.status_code, response.text[:800])
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    return body[0]["result"]["data"]


def error_of(response: httpx.Response, status: int, code: str, path: str) -> str:
    """The message of the one error of a batch of one, asserting its envelope."""
    assert response.status_code == status, (response.status_code, response.text[:800])
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    error = body[0]["error"]
    assert set(error) == {"message", "code", "data"}
    assert isinstance(error["code"], int) and error["code"] < 0
    assert error["data"] == {"code": code, "httpStatus": status, "path": path}
    assert isinstance(error["message"], str) and error["message"]
    return error["message"]
