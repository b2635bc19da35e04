"""Server-rendered pages: landing, sign-in and sign-up, device approval, and the account.

The pages work without JavaScript (the CSP allows none) and every one extends
``templates/base.html`` and uses the one stylesheet. Handlers translate HTTP to service calls
and render every expected failure as a page with a 4xx status, never a 500 or a JSON body.

Browser security for every form POST:

* a trusted ``Origin`` (or ``Referer``), else 403. The base template sets the document's
  referrer policy to ``same-origin`` with a ``<meta>`` element: under the app-wide
  ``Referrer-Policy: no-referrer`` header browsers send ``Origin: null`` on form posts;
* a CSRF token. Signed-in forms carry ``Hasher.csrf_token(session_id)``. Signed-out forms
  (sign-in, sign-up) use a double-submit cookie: a random nonce in an HttpOnly, SameSite=Strict
  cookie, and in the form a keyed hash of that nonce, compared in constant time.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from better_skills import __version__
from better_skills.protocol import errors
from better_skills.protocol.device_flow import (
    CLIENT_ID,
    USER_CODE_ALPHABET,
    USER_CODE_LENGTH,
    Paths,
    format_user_code,
    normalize_user_code,
)
from better_skills.server.dependencies import caller, services
from better_skills.server.http import (
    NO_STORE,
    delete_session_cookie,
    origin_is_trusted,
    read_params,
    session_cookie_name,
)
from better_skills.server.routers.auth_api import set_session_cookie
from better_skills.server.services import to_ms
from better_skills.server.services.accounts import MIN_PASSWORD, AccountError
from better_skills.server.services.device_flow import InvalidUserCode
from better_skills.server.services.sessions import SessionView

router = APIRouter(include_in_schema=False)

SERVER_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = SERVER_DIR / "templates"
STATIC_DIR = SERVER_DIR / "static"

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
    icon=_asset_url("icon.svg"),
)

LOGIN_CSRF_COOKIE = "better_skills_csrf"
SECURE_LOGIN_CSRF_COOKIE = "__Host-better_skills_csrf"
_NONCE = re.compile(r"[A-Za-z0-9_-]{32,64}")
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Longest ``next`` we follow; anything longer goes to the account page.
MAX_NEXT = 2048
#: Longest user-code input we look at (``BCDF-GHJK`` is 9 characters).
MAX_CODE_INPUT = 32
CODE_FORMAT_HINT = "Codes have 8 letters, like BCDF-GHJK."

CLIENT_NAMES = {CLIENT_ID: "better-skills command-line tool"}
SCOPE_TEXT = {
    "openid": "Confirm that it is you",
    "profile": "See your name",
    "email": "See your email address",
    "offline_access": "Stay signed in",
}


# -- Rendering ----------------------------------------------------------------------------


def render(
    name: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    html = templates.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers={**NO_STORE, **(headers or {})})


def redirect(url: str) -> RedirectResponse:
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
        link=("/", "Go to the start page"),
    )


@dataclass(frozen=True)
class Moment:
    """A time as the pages show it: machine-readable, readable, and relative to now."""

    iso: str
    text: str
    relative: str


def moment(epoch_ms: int, now_ms: int) -> Moment:
    when = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return Moment(
        iso=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        text=f"{when.day} {when:%b %Y, %H:%M} UTC",
        relative=relative_time((epoch_ms - now_ms) / 1000),
    )


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def duration_text(seconds: float) -> str:
    """``"8 hours"``, ``"30 minutes"``, ``"2 days"``: the largest fitting unit, rounded."""
    seconds = abs(seconds)
    # (unit, its length, from when on it is used): 90 minutes, then 2 hours.
    for unit, size, start in (
        ("day", 86400, 36 * 3600),
        ("hour", 3600, 90 * 60),
        ("minute", 60, 60),
    ):
        if seconds >= start:
            return _count(int(seconds / size + 0.5), unit)
    return _count(max(1, int(seconds)), "second")


def relative_time(delta_seconds: float) -> str:
    """``"5 minutes ago"`` for the past, ``"in 25 minutes"`` for the future."""
    if abs(delta_seconds) < 60:
        return "in less than a minute" if delta_seconds > 0 else "just now"
    text = duration_text(delta_seconds)
    return f"in {text}" if delta_seconds > 0 else f"{text} ago"


def now_ms(request: Request) -> int:
    return to_ms(services(request).clock())


# -- Small validators ---------------------------------------------------------------------


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


def parse_user_code(raw: str) -> str | None:
    """The code as ``XXXX-XXXX`` if ``raw`` can be one, else None (no service call needed)."""
    raw = raw.strip()
    if len(raw) > MAX_CODE_INPUT or not raw.isascii() or not raw.isprintable():
        return None
    code = normalize_user_code(raw)
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return format_user_code(code)


def echo(raw: str | None, limit: int = MAX_CODE_INPUT) -> str:
    """User input fit to put back into a form field: short and printable, else empty."""
    if not raw or len(raw) > limit or not raw.isprintable():
        return ""
    return raw


def ascii_token(value: Any) -> str:
    """A submitted token as ``str``, or "" (``hmac.compare_digest`` rejects non-ASCII str)."""
    return value if isinstance(value, str) and value.isascii() and len(value) <= 128 else ""


def retry_text(request: Request, seconds: int) -> str:
    """``"Try again in 15 minutes (at 08:15 UTC)."``"""
    seconds = max(1, seconds)
    at = datetime.fromtimestamp(services(request).clock() + seconds, tz=UTC)
    return f"Try again in {duration_text(seconds)} (at {at:%H:%M} UTC)."


def retry_headers(error: errors.OAuthError) -> dict[str, str]:
    return {k: v for k, v in error.headers().items() if k == "Retry-After"}


# -- Sessions and CSRF --------------------------------------------------------------------


def cookie_token(request: Request) -> str | None:
    """The browser session cookie; pages never look at ``Authorization``."""
    return request.cookies.get(session_cookie_name(services(request).settings)) or None


async def page_session(request: Request) -> SessionView | None:
    token = cookie_token(request)
    return await services(request).sessions.lookup(token) if token else None


def session_csrf(request: Request, view: SessionView) -> str:
    return services(request).hasher.csrf_token(view.session["id"])


def session_csrf_ok(request: Request, view: SessionView, submitted: Any) -> bool:
    return services(request).hasher.check_csrf(view.session["id"], ascii_token(submitted))


def _login_cookie_name(request: Request) -> str:
    secure = services(request).settings.secure_cookies
    return SECURE_LOGIN_CSRF_COOKIE if secure else LOGIN_CSRF_COOKIE


def _login_nonce(request: Request) -> str | None:
    value = request.cookies.get(_login_cookie_name(request), "")
    return value if _NONCE.fullmatch(value) else None


def _login_token(request: Request, nonce: str) -> str:
    return services(request).hasher.csrf_token(f"login:{nonce}")


def login_csrf_ok(request: Request, submitted: Any) -> bool:
    """Double submit: the form's token must be the keyed hash of the cookie's nonce."""
    nonce = _login_nonce(request)
    return nonce is not None and services(request).hasher.check_csrf(
        f"login:{nonce}", ascii_token(submitted)
    )


# -- Landing ------------------------------------------------------------------------------


@router.get("/")
async def home(request: Request) -> Response:
    view = await page_session(request)
    return render("index.html", user=view.user if view else None)


# -- Sign in and sign up ------------------------------------------------------------------


@dataclass
class LoginForm:
    """What the sign-in page shows: kept values, one error and the field it belongs to."""

    form: str = ""  # "signin" or "signup": which form the error is about
    error: str = ""
    field: str = ""
    email: str = ""
    name: str = ""


def login_page(
    request: Request,
    next_path: str,
    state: LoginForm | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    nonce = _login_nonce(request) or secrets.token_urlsafe(32)
    response = render(
        "login.html",
        status=status,
        headers=headers,
        user=None,
        next=next_path,
        for_device=next_path.startswith(Paths.DEVICE_PAGE),
        csrf_token=_login_token(request, nonce),
        state=state or LoginForm(),
        min_password=MIN_PASSWORD,
    )
    response.set_cookie(
        _login_cookie_name(request),
        nonce,
        path="/",
        httponly=True,
        samesite="strict",
        secure=services(request).settings.secure_cookies,
    )
    return response


@router.get(Paths.LOGIN_PAGE)
async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if await page_session(request) is not None:
        return redirect(next_path)
    return login_page(request, next_path)


ACCOUNT_ERROR_FIELDS = {
    "INVALID_EMAIL": "email",
    "USER_ALREADY_EXISTS": "email",
    "INVALID_NAME": "name",
    "PASSWORD_TOO_SHORT": "password",
    "PASSWORD_TOO_LONG": "password",
}


async def _account_post(request: Request, form: str) -> Response:
    if not origin_is_trusted(request, services(request).settings):
        return cross_site_refused()
    fields = ["email", "password", "csrf_token", "next"] + (["name"] if form == "signup" else [])
    try:
        params = await read_params(request, optional=fields)
    except errors.OAuthError as exc:
        state = LoginForm(form, f"The form could not be read: {exc.description}")
        return login_page(request, Paths.ACCOUNT_PAGE, state, status=exc.status_code)
    next_path = safe_next(params.get("next"))
    email, name = params.get("email", ""), params.get("name", "")
    state = LoginForm(form, email=echo(email, 320), name=echo(name, 200))
    if not login_csrf_ok(request, params.get("csrf_token")):
        state.error = "This form has expired. Please try again."
        return login_page(request, next_path, state, status=403)
    accounts = services(request).accounts
    try:
        if form == "signin":
            if not email.strip() or not params.get("password"):
                state.error = "Enter your email address and password."
                state.field = "email" if not email.strip() else "password"
                return login_page(request, next_path, state, status=400)
            signed = await accounts.sign_in(email, params["password"], caller(request))
        else:
            signed = await accounts.sign_up(
                name, email, params.get("password", ""), caller(request)
            )
    except AccountError as exc:
        state.error = exc.message
        state.field = ACCOUNT_ERROR_FIELDS.get(exc.code, "")
        return login_page(request, next_path, state, status=exc.status_code)
    except errors.TooManyRequests as exc:
        state.error = "Too many failed sign-in attempts. " + retry_text(
            request, exc.retry_after or 60
        )
        return login_page(request, next_path, state, status=429, headers=retry_headers(exc))
    # A new sign-in replaces this browser's previous session rather than orphaning it.
    old = cookie_token(request)
    if old:
        await services(request).sessions.sign_out(old, caller(request))
    response = redirect(next_path)
    set_session_cookie(request, response, signed.session.token)
    return response


@router.post(Paths.LOGIN_PAGE)
async def login_submit(request: Request) -> Response:
    return await _account_post(request, "signin")


@router.post("/signup")
async def signup_submit(request: Request) -> Response:
    return await _account_post(request, "signup")


@router.post("/logout")
async def logout(request: Request) -> Response:
    if not origin_is_trusted(request, services(request).settings):
        return cross_site_refused()
    try:
        params = await read_params(request, optional=["csrf_token", "next"])
    except errors.OAuthError as exc:
        return error_page(None, exc.status_code, "Could not sign out", exc.description)
    token = cookie_token(request)
    view = await page_session(request)
    if view is not None:
        if not session_csrf_ok(request, view, params.get("csrf_token")):
            return csrf_refused(view)
        await services(request).sessions.sign_out(token or "", caller(request))
    target = safe_next(params.get("next"), default="")
    response = redirect(login_url(target) if target else Paths.LOGIN_PAGE)
    delete_session_cookie(response, services(request).settings)
    return response


def csrf_refused(view: SessionView | None) -> HTMLResponse:
    return error_page(
        view.user if view else None,
        403,
        "Request refused",
        "This form has expired or did not come from this page. Go back, reload the page "
        "and try again.",
        link=("/account", "Go to your account"),
    )


# -- Device approval ----------------------------------------------------------------------


def device_entry(
    request: Request,
    view: SessionView | None,
    *,
    error: str = "",
    value: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        "device_entry.html",
        status=status,
        headers=headers,
        user=view.user if view else None,
        error=error,
        value=value,
        signed_in=view is not None,
    )


def device_error(
    request: Request, view: SessionView, exc: errors.OAuthError, raw: str
) -> HTMLResponse:
    """A failed look-up or decision, as a page."""
    if isinstance(exc, errors.TooManyRequests):
        return device_entry(
            request,
            view,
            error="Too many wrong codes were entered. "
            + retry_text(request, exc.retry_after or 60),
            value=echo(raw),
            status=429,
            headers=retry_headers(exc),
        )
    if isinstance(exc, errors.ExpiredToken):
        return device_entry(
            request,
            view,
            error="This code has expired. Run `better-skills login` again to get a new one.",
            status=400,
        )
    if isinstance(exc, errors.AccessDenied):
        return render(
            "device_claimed.html",
            status=403,
            user=view.user,
            csrf_token=session_csrf(request, view),
            next=f"{Paths.DEVICE_PAGE}?{urlencode({'user_code': raw})}",
        )
    if isinstance(exc, InvalidUserCode):
        return device_entry(
            request,
            view,
            error="That code is not valid. Check the code shown in your terminal and try again.",
            value=echo(raw),
            status=400,
        )
    return device_entry(request, view, error=exc.description, value=echo(raw), status=400)


@router.get(Paths.DEVICE_PAGE)
async def device_page(request: Request) -> Response:
    raw = request.query_params.get("user_code")
    view = await page_session(request)
    if raw is None:
        return device_entry(request, view)
    code = parse_user_code(raw)
    if code is None:
        error = (
            "Enter the code shown in your terminal."
            if not raw.strip()
            else f"That is not a valid code. {CODE_FORMAT_HINT}"
        )
        return device_entry(request, view, error=error, value=echo(raw), status=400)
    if view is None:
        return redirect(login_url(f"{Paths.DEVICE_PAGE}?{urlencode({'user_code': code})}"))
    who = caller(request)
    try:
        found = await services(request).device_flow.lookup(code, view.user["id"], who)
    except errors.OAuthError as exc:
        return device_error(request, view, exc, code)
    now = now_ms(request)
    scopes = (found.scope or "").split()
    return render(
        "device_request.html",
        user=view.user,
        code=found.user_code,
        status_name=found.status,
        client_id=found.client_id,
        client_name=CLIENT_NAMES.get(found.client_id),
        scopes=[(scope, SCOPE_TEXT.get(scope)) for scope in scopes],
        requested=moment(found.created_at, now),
        expires=moment(found.expires_at, now),
        ip_address=found.ip_address,
        same_ip=found.ip_address is not None and found.ip_address == who.ip,
        viewer_ip=who.ip,
        user_agent=found.user_agent,
        session_ttl=duration_text(services(request).settings.session_ttl),
        csrf_token=session_csrf(request, view),
    )


async def _decide(request: Request, approve: bool) -> Response:
    if not origin_is_trusted(request, services(request).settings):
        return cross_site_refused()
    view = await page_session(request)
    try:
        params = await read_params(request, optional=["user_code", "csrf_token"])
    except errors.OAuthError as exc:
        user = view.user if view else None
        return error_page(user, exc.status_code, "Could not read the form", exc.description)
    raw = params.get("user_code", "")
    code = parse_user_code(raw)
    if view is None:
        back = f"{Paths.DEVICE_PAGE}?{urlencode({'user_code': code})}" if code else "/device"
        return error_page(
            None,
            401,
            "Sign in again",
            "Your session has ended. Sign in again, then check the code once more.",
            link=(login_url(back), "Sign in"),
        )
    if not session_csrf_ok(request, view, params.get("csrf_token")):
        return csrf_refused(view)
    if code is None:
        return device_entry(
            request, view, error=f"That is not a valid code. {CODE_FORMAT_HINT}", status=400
        )
    try:
        await services(request).device_flow.decide(code, view.user["id"], approve, caller(request))
    except errors.OAuthError as exc:
        return device_error(request, view, exc, code)
    return render("device_done.html", user=view.user, approved=approve, code=code)


@router.post("/device/approve")
async def device_approve(request: Request) -> Response:
    return await _decide(request, approve=True)


@router.post("/device/deny")
async def device_deny(request: Request) -> Response:
    return await _decide(request, approve=False)


# -- Account ------------------------------------------------------------------------------


SESSION_KINDS = {"device": "Command line", "browser": "Browser"}


@router.get(Paths.ACCOUNT_PAGE)
async def account(request: Request) -> Response:
    view = await page_session(request)
    if view is None:
        return redirect(login_url(Paths.ACCOUNT_PAGE))
    rows = await services(request).sessions.list_for_user(view.user["id"])
    now = now_ms(request)
    current = view.session["id"]
    listed = [
        {
            "id": row["id"],
            "kind": SESSION_KINDS.get(row["kind"], row["kind"].title()),
            "is_device": row["kind"] == "device",
            "client_id": row["client_id"],
            "client_name": CLIENT_NAMES.get(row["client_id"] or ""),
            "created": moment(row["created_at"], now),
            "last_used": moment(row["last_used_at"], now),
            "expires": moment(row["expires_at"], now),
            "ip_address": row["ip_address"],
            "user_agent": row["user_agent"],
            "current": row["id"] == current,
        }
        for row in rows
    ]
    listed.sort(key=lambda s: not s["current"])  # stable: the rest stay newest first
    return render(
        "account.html",
        user=view.user,
        sessions=listed,
        csrf_token=session_csrf(request, view),
        revoked=request.query_params.get("revoked") == "1",
    )


@router.post("/account/sessions/{session_id}/revoke")
async def revoke_session(request: Request, session_id: str) -> Response:
    if not origin_is_trusted(request, services(request).settings):
        return cross_site_refused()
    view = await page_session(request)
    try:
        params = await read_params(request, optional=["csrf_token"])
    except errors.OAuthError as exc:
        user = view.user if view else None
        return error_page(user, exc.status_code, "Could not read the form", exc.description)
    if view is None:
        return redirect(login_url(Paths.ACCOUNT_PAGE))
    if not session_csrf_ok(request, view, params.get("csrf_token")):
        return csrf_refused(view)
    found = bool(_SESSION_ID.fullmatch(session_id)) and await services(request).sessions.revoke(
        view.user["id"], session_id, caller(request)
    )
    if not found:
        return error_page(
            view.user,
            404,
            "Session not found",
            "That session has already ended or is not one of yours.",
            link=("/account", "Back to your account"),
        )
    if session_id == view.session["id"]:
        response = redirect(Paths.LOGIN_PAGE)
        delete_session_cookie(response, services(request).settings)
        return response
    return redirect(f"{Paths.ACCOUNT_PAGE}?revoked=1")
