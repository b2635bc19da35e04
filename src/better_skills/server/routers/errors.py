"""Error pages for browsers, and the small files browsers and crawlers ask for.

A request that accepts ``text/html`` and is not for the API gets its error (404, 405, 429,
500, ...) as a page that extends the base template (viewport tag, stylesheet, navigation);
API clients and API paths keep the RFC 6749 JSON body. ``/favicon.ico`` and ``/robots.txt``
are served, so browsers and crawlers do not meet errors there in the first place.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from better_skills.server.assets import STATIC_DIR
from better_skills.server.dependencies import services
from better_skills.server.http import session_cookie_name

router = APIRouter(include_in_schema=False)

#: Paths whose callers are programs: they always get JSON.
API_PREFIXES = ("/api/", "/trpc/", "/.well-known/")
#: Response headers an error page keeps from the error it shows.
KEPT_HEADERS = ("retry-after", "allow", "www-authenticate")
START_PAGE = ("/", "Go to the start page")

PAGES: dict[int, tuple[str, str]] = {
    404: (
        "Page not found",
        "There is no page at this address. Check the address, or start again from the start page.",
    ),
    405: (
        "This page cannot be opened this way",
        "This address only answers a button on one of our pages, not a link, a reload or your "
        "browser's history. Go back to the page you came from and use its buttons.",
    ),
    413: ("Too much data", "The form sent more data than the server accepts."),
    429: (
        "Too many attempts",
        "There were too many attempts from here. Wait a while, then try again.",
    ),
    500: (
        "Something went wrong",
        "The server met an unexpected error. Try again in a moment; if it keeps happening, "
        "tell whoever runs this server.",
    ),
    503: (
        "Temporarily unavailable",
        "The server cannot do this right now. Try again in a moment.",
    ),
}


def wants_html(request: Request) -> bool:
    """A browser asking for a page: accepts ``text/html`` and is not on an API path."""
    path = request.url.path
    if path == "/api" or path.startswith(API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def _description(response: Response) -> str:
    """The ``error_description`` of a JSON error body, or nothing."""
    try:
        body = json.loads(bytes(response.body))
    except (ValueError, TypeError):
        return ""
    text = body.get("error_description") if isinstance(body, dict) else None
    return text if isinstance(text, str) else ""


def _retry_text(seconds: str) -> str:
    if not seconds.isdigit():
        return "Wait a while, then try again."
    minutes = -(-int(seconds) // 60)
    if int(seconds) < 120:
        return f"Wait {seconds} seconds, then try again."
    return f"Wait {minutes} minutes, then try again."


def _error_page() -> Callable[..., Response]:
    # The pages' own renderer, so the error page looks like every other page; imported when
    # first needed, as the pages import this module's helpers.
    from better_skills.server.routers.pages._render import error_page

    return error_page


def as_page(request: Request, response: Response, user: dict[str, Any] | None = None) -> Response:
    """``response``, an error for a program, as an error page when a browser asked for a page;
    ``user``, the signed-in person, is named in the page's header."""
    status = response.status_code
    if status < 400 or not wants_html(request):
        return response
    heading, message = PAGES.get(status) or (HTTPStatus(status).phrase, _description(response))
    if status == 429:
        message = "There were too many attempts from here. " + _retry_text(
            response.headers.get("retry-after", "")
        )
    elif status == 400 and _description(response):
        message = _description(response)
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    return _error_page()(user, status, heading, message, link=START_PAGE, headers=headers)


async def _signed_in_user(request: Request) -> dict[str, Any] | None:
    """The person of the browser's session cookie, or None (also when that cannot be told)."""
    try:
        settings = services(request).settings
        token = request.cookies.get(session_cookie_name(settings))
        view = await services(request).sessions.lookup(token) if token else None
    except Exception:  # an error page must not fail for want of a session
        return None
    return view.user if view else None


Handler = Callable[[Request, Exception], Awaitable[Response]]


def for_browsers(handler: Handler) -> Handler:
    """An exception handler whose answers become pages for browsers (see :func:`as_page`)."""

    async def handle(request: Request, exc: Exception) -> Response:
        response = await handler(request, exc)
        user = None
        if response.status_code < 500 and wants_html(request):
            # Not when the server is failing (the database may be why): "Sign in" is enough.
            user = await _signed_in_user(request)
        return as_page(request, response, user)

    return handle


@router.get("/favicon.ico")
async def favicon() -> Response:
    return FileResponse(
        STATIC_DIR / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


ROBOTS = "# An authentication server: nothing here to index.\nUser-agent: *\nDisallow: /\n"


@router.get("/robots.txt")
async def robots() -> Response:
    return PlainTextResponse(ROBOTS, headers={"Cache-Control": "public, max-age=86400"})
