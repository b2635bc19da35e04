"""Error pages for browsers, JSON for programs; the favicon and robots.txt (issue 15, item 4)."""

from __future__ import annotations

import errno
import re

import anyio
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from better_skills.server.app import raised_by_database
from better_skills.server.routers.errors import as_page

pytestmark = pytest.mark.anyio

#: What Chrome sends when it navigates to a page.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"}


def assert_is_error_page(response: httpx.Response, status: int, heading: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(r'<link rel="stylesheet" href="/static/style\.css\?v=\w+">', html)
    assert f"<h1>{heading}</h1>" in html
    assert '<a class="button button-primary" href="/">' in html
    assert "<script" not in html
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"


async def test_a_browser_gets_a_page_for_a_missing_page(app_client) -> None:
    async with app_client() as client:
        assert_is_error_page(
            await client.get("/no/such/page", headers=BROWSER), 404, "Page not found"
        )
        # A GET of a form's target, as from history or a reload: 405, as a page.
        response = await client.get("/device/approve", headers=BROWSER)
        assert_is_error_page(response, 405, "This page cannot be opened this way")
        assert '<a href="/login" class="nav-link">Sign in</a>' in response.text
        # Signed in, the page's header names the person, as on every other page.
        signed_up = await client.post(
            "/api/auth/sign-up/email",
            json={"name": "Ada", "email": "ada@example.com", "password": "correct horse battery"},
            headers={"Origin": "http://testserver"},
        )
        assert signed_up.status_code == 200, signed_up.text
        page = await client.get("/no/such/page", headers=BROWSER)
        assert_is_error_page(page, 404, "Page not found")
        assert "Account of </span><bdi>Ada</bdi></a>" in page.text


async def test_programs_and_api_paths_keep_json(app_client) -> None:
    async with app_client() as client:
        for response in (
            await client.get("/no/such/page"),  # httpx: Accept */*
            await client.get("/no/such/page", headers={"Accept": "application/json"}),
            await client.get("/api/no/such/thing", headers=BROWSER),
            await client.delete("/api/auth/device/code", headers=BROWSER),
        ):
            assert response.status_code in (404, 405)
            assert response.headers["content-type"] == "application/json"
            assert response.json()["error"] in ("not_found", "method_not_allowed")
        # /trpc answers in the tRPC envelope the original CLI parses.
        trpc = await client.get("/trpc/nothing", headers=BROWSER)
        assert trpc.status_code == 404
        assert trpc.headers["content-type"] == "application/json"
        assert trpc.json()["error"]["data"]["code"] == "NOT_FOUND"


async def test_an_unexpected_error_is_a_page_for_a_browser(app_client) -> None:
    async def boom(_request: Request) -> None:
        raise RuntimeError("boom")

    async with app_client() as client:
        client.app.router.add_route("/boom", boom)
        transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as raw:
            page = await raw.get("/boom", headers=BROWSER)
            assert page.status_code == 500
            assert "<h1>Something went wrong</h1>" in page.text
            assert "boom" not in page.text
            program = await raw.get("/boom")
            assert program.json() == {
                "error": "server_error",
                "error_description": "Internal error.",
            }


async def test_an_os_error_outside_the_database_is_a_500_not_an_outage(app_client) -> None:
    """A missing file or a full disk is our failure (500, logged as unexpected), not a
    database outage: no 503 with Retry-After inviting the client to try again."""

    async def missing_file(_request: Request) -> None:
        await anyio.Path("/nonexistent/better-skills/template.html").read_text()

    async def full_disk(_request: Request) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    async with app_client() as client:
        client.app.router.add_route("/missing-file", missing_file)
        client.app.router.add_route("/full-disk", full_disk)
        transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as raw:
            for path in ("/missing-file", "/full-disk"):
                program = await raw.get(path)
                assert program.status_code == 500, (path, program.text)
                assert program.json() == {
                    "error": "server_error",
                    "error_description": "Internal error.",
                }
                assert "retry-after" not in program.headers
                page = await raw.get(path, headers=BROWSER)
                assert page.status_code == 500
                assert "<h1>Something went wrong</h1>" in page.text
                assert "Traceback" not in page.text and "nonexistent" not in page.text


async def test_only_an_os_error_of_the_database_counts_as_an_outage() -> None:
    """The real errors: asyncpg refused by a port nothing listens on (a bare OSError that no
    layer wraps) is the database's; a missing file is not."""
    import asyncpg

    with pytest.raises(OSError) as refused:
        await asyncpg.connect("postgresql://postgres@127.0.0.1:1/none", timeout=5)
    assert raised_by_database(refused.value)
    with pytest.raises(OSError) as missing:
        await anyio.Path("/nonexistent/better-skills").read_text()
    assert not raised_by_database(missing.value)


def test_a_rate_limit_page_keeps_retry_after_and_says_how_long() -> None:
    request = Request({"type": "http", "path": "/device", "headers": [(b"accept", b"text/html")]})
    limited = JSONResponse(
        {"error": "slow_down", "error_description": "Too many"},
        status_code=429,
        headers={"Retry-After": "60"},
    )
    page = as_page(request, limited)
    assert page.status_code == 429
    assert page.headers["retry-after"] == "60"
    assert b"<h1>Too many attempts</h1>" in page.body
    assert b"Wait 60 seconds" in page.body
    api = Request({"type": "http", "path": "/api/auth/device", "headers": request["headers"]})
    assert as_page(api, limited) is limited


async def test_the_favicon_and_robots_txt_are_served(app_client) -> None:
    async with app_client() as client:
        icon = await client.get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.headers["content-type"] == "image/x-icon"
        assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
        robots = await client.get("/robots.txt")
        assert robots.status_code == 200
        assert robots.headers["content-type"].startswith("text/plain")
        assert "User-agent: *\nDisallow: /" in robots.text
