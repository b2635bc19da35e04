"""Helpers shared by the security tests: error shapes, row counts, the endpoints under attack."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import func, select

from better_skills.protocol.device_flow import Paths
from better_skills.server.models import metadata
from tests.support.flow import PASSWORD, hidden

__all__ = ["hidden"]  # the security tests import it from here too

#: Every POST endpoint of the JSON API; each parses its body with ``http.read_params``.
API_POSTS = [
    Paths.DEVICE_CODE,
    Paths.DEVICE_TOKEN,
    Paths.DEVICE_APPROVE,
    Paths.DEVICE_DENY,
    Paths.SIGN_OUT,
    Paths.SIGN_UP_EMAIL,
    Paths.SIGN_IN_EMAIL,
]
#: Every form POST of the browser pages.
PAGE_POSTS = ["/login", "/signup", "/logout", "/device/approve", "/device/deny"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


def assert_rfc_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A 4xx with an RFC 6749 §5.2 body that no cache keeps."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("error_description"), str), body
    assert "no-store" in response.headers.get("cache-control", ""), response.headers
    assert "Traceback" not in response.text
    return body


def assert_page_error(response: httpx.Response, status: int | None = None) -> None:
    """A 4xx HTML page (the pages never answer with JSON or a 500)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert "Traceback" not in response.text


async def count_rows(services: Any) -> dict[str, int]:
    """Rows in every table, to prove that an attack made nothing grow."""
    counts = {}
    async with services.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            result = await conn.execute(select(func.count()).select_from(table))
            counts[table.name] = result.scalar_one()
    return counts


async def page_sign_up(
    client: httpx.AsyncClient, email: str = "ada@example.com", name: str = "Ada"
) -> None:
    """Sign up through the /login page, as a browser does (CSRF cookie, token, Origin)."""
    form = await client.get("/login")
    assert form.status_code == 200, form.text[:300]
    response = await client.post(
        "/signup",
        data={
            "name": name,
            "email": email,
            "password": PASSWORD,
            "csrf_token": hidden(form.text, "csrf_token"),
            "next": "/account",
        },
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 303, response.text[:300]


@asynccontextmanager
async def a_code_and_two_people(
    app: Callable[..., Any], sign_up: Callable[[httpx.AsyncClient, str], Awaitable[Any]]
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient, dict]]:
    """(device, ada, mallory, code): the application with a device that holds a fresh code,
    and two people on their own addresses (10.0.0.2, 10.0.0.3), each signed up with
    ``sign_up`` (the API's or the pages')."""
    from tests.server.flow import issue

    async with (
        app() as a,
        a.client() as device,
        a.client("10.0.0.2") as ada,
        a.client("10.0.0.3") as mallory,
    ):
        await sign_up(ada, "ada@example.com")
        await sign_up(mallory, "mallory@example.com")
        yield device, ada, mallory, await issue(device)
