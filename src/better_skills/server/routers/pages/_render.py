"""Rendering for the pages: the Jinja environment, page responses, redirects and refusals.

Every page extends ``templates/base.html`` and uses the one stylesheet; every response is
``no-store``. Expected failures are pages with a 4xx status, never a 500 or a JSON body.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from better_skills import __version__
from better_skills.protocol import errors
from better_skills.protocol.device_flow import Paths
from better_skills.server.assets import STATIC_DIR, TEMPLATES_DIR
from better_skills.server.dependencies import services
from better_skills.server.http import NO_STORE
from better_skills.server.routers.pages._time import duration_text
from better_skills.server.services.sessions import SessionView

templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _asset_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``, so a new release is never served from a cache."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


templates.globals.update(
    product="better-skills",
    version=__version__,
    stylesheet=_asset_url("style.css"),
    console_stylesheet=_asset_url("console.css"),
    highlight_stylesheet=_asset_url("highlight.css"),
    icon=_asset_url("icon.svg"),
    paths=Paths,
)


def render(
    name: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    html = templates.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers={**NO_STORE, **(headers or {})})


def redirect(url: str) -> RedirectResponse:
    """A 303, so the browser follows with a GET (post/redirect/get)."""
    return RedirectResponse(url, status_code=303, headers=dict(NO_STORE))


def error_page(
    user: dict[str, Any] | None,
    status: int,
    heading: str,
    message: str,
    *,
    link: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        "error.html",
        status=status,
        headers=headers,
        user=user,
        heading=heading,
        message=message,
        link=link,
    )


def cross_site_refused() -> HTMLResponse:
    return error_page(
        None,
        403,
        "Request refused",
        "This form was not sent from a better-skills page, so it was refused to protect your "
        "account. Go back, reload the page and try again.",
        link=(Paths.HOME_PAGE, "Go to the start page"),
    )


def csrf_refused(view: SessionView | None) -> HTMLResponse:
    return error_page(
        view.user if view else None,
        403,
        "Request refused",
        "This form has expired or did not come from this page. Go back, reload the page "
        "and try again.",
        link=(Paths.ACCOUNT_PAGE, "Go to your account"),
    )


def retry_text(request: Request, seconds: int) -> str:
    """``"Try again in 15 minutes (at 08:15 UTC)."``"""
    seconds = max(1, seconds)
    at = datetime.fromtimestamp(services(request).clock() + seconds, tz=UTC)
    return f"Try again in {duration_text(seconds, round_up=True)} (at {at:%H:%M} UTC)."


def retry_headers(error: errors.OAuthError) -> dict[str, str]:
    return {k: v for k, v in error.headers().items() if k == "Retry-After"}
