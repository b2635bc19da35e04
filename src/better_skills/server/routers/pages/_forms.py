"""The one guard every form POST passes, the two CSRF schemes, and input validators.

Browser security for every form POST (:func:`form_post`):

* a trusted ``Origin`` (or ``Referer``), else 403. The base template sets the document's
  referrer policy to ``same-origin`` with a ``<meta>`` element: under the app-wide
  ``Referrer-Policy: no-referrer`` header browsers send ``Origin: null`` on form posts;
* a body that parses (else its 4xx, as a page);
* a CSRF token. Signed-in forms carry ``Hasher.csrf_token(session_id)``. Signed-out forms
  (sign-in, sign-up) use a double-submit cookie: a random nonce in an HttpOnly, SameSite=Strict
  cookie, and in the form a keyed hash of that nonce, compared in constant time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.protocol.device_flow import MAX_USER_CODE_INPUT, Paths
from better_skills.server.dependencies import services
from better_skills.server.fields import EMAIL_COLUMN, USER_NAME
from better_skills.server.http import origin_is_trusted, read_params, session_cookie_name
from better_skills.server.routers.pages._render import cross_site_refused, csrf_refused, error_page
from better_skills.server.services.sessions import BROWSER, SessionView

LOGIN_CSRF_COOKIE = "better_skills_csrf"
SECURE_LOGIN_CSRF_COOKIE = "__Host-better_skills_csrf"
_NONCE = re.compile(r"[A-Za-z0-9_-]{32,64}")
#: Longest ``next`` we follow; anything longer goes to the account page.
MAX_NEXT = 2048
#: Longest submitted token we compare (tokens are 43 characters).
MAX_TOKEN_INPUT = 128
#: The longest email and name a form echoes back: the widths of their columns.
EMAIL_LENGTH = EMAIL_COLUMN
NAME_LENGTH = USER_NAME


# -- Validators ---------------------------------------------------------------------------


def safe_next(raw: str | None, default: str = Paths.ACCOUNT_PAGE) -> str:
    """A redirect target on this site: a path starting with one ``/``, nothing else.

    Refuses ``//host`` and ``/\\host`` (browsers read both as another host), schemes,
    backslashes, white space and control characters (browsers drop tabs and newlines, so
    ``/\\t/host`` would become ``//host``).
    """
    if not raw or len(raw) > MAX_NEXT or not raw.startswith("/"):
        return default
    if raw.startswith("//") or "\\" in raw or not raw.isprintable() or " " in raw:
        return default
    return raw


def login_url(next_path: str) -> str:
    return f"{Paths.LOGIN_PAGE}?{urlencode({'next': next_path})}"


def echo(raw: str | None, limit: int = MAX_USER_CODE_INPUT) -> str:
    """User input fit to put back into a form field: short and printable, else empty."""
    if not raw or len(raw) > limit or not raw.isprintable():
        return ""
    return raw


def ascii_token(value: Any) -> str:
    """A submitted token as ``str``, or "" (``hmac.compare_digest`` rejects non-ASCII str)."""
    ok = isinstance(value, str) and value.isascii() and len(value) <= MAX_TOKEN_INPUT
    return value if ok else ""


# -- Sessions and CSRF --------------------------------------------------------------------


def cookie_token(request: Request) -> str | None:
    """The browser session cookie; pages never look at ``Authorization``."""
    return request.cookies.get(session_cookie_name(services(request).settings)) or None


async def page_session(request: Request) -> SessionView | None:
    """The browser's session. Only a password sign-in's counts: a CLI token or an access
    token planted in the cookie must not approve logins or mint tokens."""
    token = cookie_token(request)
    return await services(request).sessions.lookup(token, kinds=(BROWSER,)) if token else None


def session_csrf(request: Request, view: SessionView) -> str:
    return services(request).hasher.csrf_token(view.session.id)


def session_csrf_ok(request: Request, view: SessionView, submitted: Any) -> bool:
    return services(request).hasher.check_csrf(view.session.id, ascii_token(submitted))


def login_cookie_name(request: Request) -> str:
    secure = services(request).settings.secure_cookies
    return SECURE_LOGIN_CSRF_COOKIE if secure else LOGIN_CSRF_COOKIE


def login_nonce(request: Request) -> str | None:
    value = request.cookies.get(login_cookie_name(request), "")
    return value if _NONCE.fullmatch(value) else None


def login_token(request: Request, nonce: str) -> str:
    return services(request).hasher.csrf_token(f"login:{nonce}")


def login_csrf_ok(request: Request, submitted: Any) -> bool:
    """Double submit: the form's token must be the keyed hash of the cookie's nonce."""
    nonce = login_nonce(request)
    return nonce is not None and services(request).hasher.check_csrf(
        f"login:{nonce}", ascii_token(submitted)
    )


# -- The form guard -----------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """A form POST that passed the guard: its fields, and the browser's session if any."""

    params: dict[str, str]
    view: SessionView | None

    @property
    def user(self) -> dict[str, Any] | None:
        return self.view.user if self.view else None


#: Renders a signed-out form's refusal: (fields read so far or None, status, message).
Refusal = Callable[[dict[str, str] | None, int, str], Response]


async def form_post(
    request: Request,
    fields: list[str],
    *,
    signed_out: Refusal | None = None,
    heading: str = "Could not read the form",
) -> Form | Response:
    """Origin, parse, session, CSRF: a :class:`Form`, or the page that refuses the POST.

    Signed-in forms (``signed_out`` None) check the session's CSRF token when the browser
    has a session; what to do without one is the handler's choice. Signed-out forms (sign-in,
    sign-up) pass ``signed_out``, which renders their own page for a bad body or token, and
    check the double-submit token; they look up no session.
    """
    if not origin_is_trusted(request, services(request).settings):
        return cross_site_refused()
    view = None if signed_out else await page_session(request)
    try:
        params = await read_params(request, optional=[*fields, "csrf_token"])
    except errors.OAuthError as exc:
        if signed_out:
            return signed_out(
                None, exc.status_code, f"The form could not be read: {exc.description}"
            )
        user = view.user if view else None
        return error_page(user, exc.status_code, heading, exc.description)
    if signed_out:
        if not login_csrf_ok(request, params.get("csrf_token")):
            return signed_out(params, 403, "This form has expired. Please try again.")
    elif view is not None and not session_csrf_ok(request, view, params.get("csrf_token")):
        return csrf_refused(view)
    return Form(params, view)
