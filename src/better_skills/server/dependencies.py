"""Guards shared by the routers: who is calling, and may this browser POST."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from better_skills.protocol import errors
from better_skills.server.http import (
    bearer_token,
    client_ip,
    origin_is_trusted,
    session_cookie_name,
    user_agent,
)
from better_skills.server.principal import VAULT_WRITE, Principal, vault_scopes
from better_skills.server.services import Caller
from better_skills.server.services.container import Services
from better_skills.server.services.sessions import BROWSER, SessionView


def services(request: Request) -> Services:
    return request.app.state.services


def caller(request: Request) -> Caller:
    return Caller(ip=client_ip(request, services(request).settings), user_agent=user_agent(request))


def session_token(request: Request) -> tuple[str | None, bool]:
    """The presented token and whether it came from the cookie (which needs CSRF defences)."""
    token = bearer_token(request)
    if token is not None:
        return token, False
    cookie = request.cookies.get(session_cookie_name(services(request).settings))
    return (cookie, True) if cookie else (None, False)


async def current_session(request: Request) -> SessionView | None:
    """The caller's session or personal access token, or None. A cookie counts only when it
    holds a browser session: a device login's token or an access token planted in a cookie
    would otherwise be a way round every "browser only" rule."""
    token, from_cookie = session_token(request)
    if token is None:
        return None
    return await services(request).sessions.lookup(token, kinds=(BROWSER,) if from_cookie else None)


def require_trusted_origin(request: Request) -> None:
    """Cookie-authenticated POSTs must come from our own origin (better-auth does the same)."""
    if not origin_is_trusted(request, services(request).settings):
        raise errors.Forbidden("Cross-site request refused: the Origin is not trusted.")


def refuse_cross_site_sign_in(request: Request) -> None:
    """Sign-up and sign-in set a session cookie, and accept form bodies, which any site's
    HTML form can post without the victim's (SameSite) cookies: checking the Origin only when
    cookies came along let another site sign a browser into the attacker's account (login
    CSRF). Browsers name the origin of every cross-site POST (``Origin``, or ``Referer``);
    programs that are not browsers send neither, and need no check.
    """
    headers = request.headers
    if request.cookies or "origin" in headers or "referer" in headers:
        require_trusted_origin(request)


async def require_session(request: Request) -> SessionView:
    """A valid session for a state-changing request; cookie callers must pass the Origin check."""
    token, from_cookie = session_token(request)
    if token is None:
        raise errors.Unauthorized("Sign in first.")
    if from_cookie:
        require_trusted_origin(request)
    view = await services(request).sessions.lookup(token, kinds=(BROWSER,) if from_cookie else None)
    if view is None:
        raise errors.Unauthorized("Your session is invalid or has expired. Sign in again.")
    return view


async def require_browser_session(request: Request) -> SessionView:
    """A session made by signing in with the password: what approving or denying a login
    (and minting an access token) needs. By cookie it needs our Origin like every cookie
    POST; a device login's token or a personal access token is refused, as a bearer token
    or planted in the cookie, so a stolen CLI token cannot approve a fresh device code and
    mint itself a new session that outlives its own sign-out."""
    view = await require_session(request)
    if not view.is_browser:
        raise errors.Forbidden(
            "Only a browser signed in with the password can do this, not a device login "
            "or an access token."
        )
    return view


def is_cross_site(request: Request) -> bool:
    """Whether the browser marked the request as made by another site: ``Sec-Fetch-Site``
    other than ``same-origin``/``none``, or an ``Origin``/``Referer`` that is not ours.
    Such a request must not change state even when it is a GET (a top-level navigation
    carries the SameSite=Lax cookie)."""
    headers = request.headers
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site and site not in ("same-origin", "none"):
        return True
    trusted = services(request).settings.trusted_origins
    origin = headers.get("origin")
    if origin is not None and origin.strip().rstrip("/") not in trusted:
        return True  # "null" (sandboxed or privacy-stripped) is not ours either
    referer = headers.get("referer")
    if referer:
        try:
            parts = urlsplit(referer.strip())
        except ValueError:  # e.g. "http://[::1": not a URL of ours
            return True
        if f"{parts.scheme}://{parts.netloc}" not in trusted:
            return True
    return False


#: Methods that change nothing: no Origin or CSRF check for cookie callers.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The header a browser page sends its session's CSRF token in (``Hasher.csrf_token``).
CSRF_HEADER = "x-csrf-token"


async def current_principal(request: Request) -> Principal:
    """The /api/v1 caller: a bearer token (device session or personal access token, both
    resolved by ``sessions.lookup``) or the session cookie. Cookie callers must send unsafe
    methods from a trusted Origin with the session's CSRF token, like the auth pages' forms,
    and a cookie counts only when it holds a browser session (a CLI token planted in a
    cookie is no way round the bearer rules). Tests override this dependency
    (``app.dependency_overrides[current_principal]``).
    """
    token, from_cookie = session_token(request)
    if token is None:
        raise errors.Unauthorized("Sign in first: send Authorization: Bearer <token>.")
    view = await services(request).sessions.lookup(token)
    # ``kind`` is "browser", "device" or "access_token" where the lookup tells them apart.
    kind = str(getattr(view, "kind", "browser" if from_cookie else "device"))
    if view is None or (from_cookie and kind != "browser"):
        raise errors.Unauthorized("Your session is invalid or has expired. Sign in again.")
    session_id = view.session.id
    if from_cookie and request.method not in SAFE_METHODS:
        require_trusted_origin(request)
        submitted = request.headers.get(CSRF_HEADER, "")
        if not services(request).hasher.check_csrf(session_id, submitted):
            raise errors.Forbidden(f"Missing or wrong CSRF token (send the {CSRF_HEADER} header).")
    return Principal(
        user_id=view.user.id,
        session_id=session_id,
        token_kind="cookie" if from_cookie else kind,
        # A device login holds the vault scopes it asked for (all of them when it named none).
        scopes=vault_scopes(view.scope),
        name=view.user.name,
        email=view.user.email,
    )


def require_write_scope(principal: Principal) -> None:
    if not principal.can(VAULT_WRITE):
        raise errors.Forbidden("This token may only read; its scope lacks vault:write.")
