"""The device page: enter a code, see who is asking, approve or deny."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from better_skills.protocol import errors
from better_skills.protocol.device_flow import CLIENT_ID, Paths, parse_user_code
from better_skills.server.dependencies import caller, is_cross_site, services
from better_skills.server.routers.pages._agents import describe_agents
from better_skills.server.routers.pages._forms import (
    Form,
    echo,
    form_post,
    login_url,
    page_session,
    session_csrf,
)
from better_skills.server.routers.pages._render import (
    error_page,
    redirect,
    render,
    retry_headers,
    retry_text,
)
from better_skills.server.routers.pages._time import duration_text, moment, now_ms
from better_skills.server.services.device_flow import InvalidUserCode
from better_skills.server.services.sessions import SessionView

router = APIRouter()

CODE_FORMAT_HINT = "Codes have 8 letters, like BCDF-GHJK."
CLIENT_NAMES = {CLIENT_ID: "better-skills command-line tool"}
SCOPE_TEXT = {
    "openid": "Confirm that it is you",
    "profile": "See your name",
    "email": "See your email address",
    "offline_access": "Stay signed in",
}


def device_url(code: str) -> str:
    return f"{Paths.DEVICE_PAGE}?{urlencode({'user_code': code})}"


def device_entry(
    request: Request,
    view: SessionView | None,
    *,
    error: str = "",
    value: str = "",
    confirm: bool = False,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The code form; ``confirm`` when a link from another site brought the code."""
    return render(
        "device_entry.html",
        status=status,
        headers=headers,
        user=view.user if view else None,
        error=error,
        value=value,
        confirm=confirm,
        signed_in=view is not None,
        csrf_token=session_csrf(request, view) if view else "",
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
            error=Markup(
                "This code has expired. Run <code>better-skills login</code> again to get a "
                "new one."
            ),
            status=400,
        )
    if isinstance(exc, errors.AccessDenied):
        return render(
            "device_claimed.html",
            status=403,
            user=view.user,
            csrf_token=session_csrf(request, view),
            next=device_url(raw),
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


def bad_code_error(raw: str) -> str:
    if not raw.strip():
        return "Enter the code shown in your terminal."
    return f"That is not a valid code. {CODE_FORMAT_HINT}"


@router.get(Paths.DEVICE_PAGE)
async def device_page(request: Request) -> Response:
    """Show a code's request. A GET only looks: claiming the code is for a POST, and a
    navigation another site started does not even look (a miss would spend this address's
    guessing budget)."""
    raw = request.query_params.get("user_code")
    view = await page_session(request)
    if raw is None:
        return device_entry(request, view)
    code = parse_user_code(raw)
    if code is None:
        return device_entry(request, view, error=bad_code_error(raw), value=echo(raw), status=400)
    if view is None:
        return redirect(login_url(device_url(code)))
    if is_cross_site(request):
        return device_entry(request, view, value=code, confirm=True)
    who = caller(request)
    try:
        found = await services(request).device_flow.lookup(code, None, who)
    except errors.OAuthError as exc:
        return device_error(request, view, exc, code)
    now = now_ms(request)
    scopes = (found.scope or "").split()
    names = await describe_agents([found.user_agent])
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
        device_name=names[found.user_agent],
        hostname=found.hostname,
        session_ttl=duration_text(services(request).settings.session_ttl),
        csrf_token=session_csrf(request, view),
    )


async def _code_form(request: Request, *, deciding: bool) -> tuple[SessionView, str] | Response:
    """The guard of the code forms (Continue, Approve, Deny): a session and a valid code."""
    form = await form_post(request, ["user_code"])
    if not isinstance(form, Form):
        return form
    raw = form.params.get("user_code", "")
    code = parse_user_code(raw)
    if form.view is None and not deciding:
        # The entry form, signed out: sign in first, then see the code's request.
        if code is None:
            return device_entry(
                request, None, error=bad_code_error(raw), value=echo(raw), status=400
            )
        return redirect(login_url(device_url(code)))
    if form.view is None:
        back = device_url(code) if code else Paths.DEVICE_PAGE
        return error_page(
            None,
            401,
            "Sign in again",
            "Your session has ended. Sign in again, then check the code once more.",
            link=(login_url(back), "Sign in"),
        )
    if code is None:
        return device_entry(
            request, form.view, error=bad_code_error(raw), value=echo(raw), status=400
        )
    return form.view, code


@router.post(Paths.DEVICE_PAGE)
async def device_continue(request: Request) -> Response:
    """The entry form's Continue: claim the code for this account, then show it."""
    checked = await _code_form(request, deciding=False)
    if not isinstance(checked, tuple):
        return checked
    view, code = checked
    try:
        await services(request).device_flow.lookup(code, view.user.id, caller(request))
    except errors.OAuthError as exc:
        return device_error(request, view, exc, code)
    return redirect(device_url(code))


async def _decide(request: Request, approve: bool) -> Response:
    """Claim the code if nobody has (the first claimer owns it), decide, then redirect to
    the result page so that reloading it or going back sends nothing again."""
    checked = await _code_form(request, deciding=True)
    if not isinstance(checked, tuple):
        return checked
    view, code = checked
    flow, who = services(request).device_flow, caller(request)
    try:
        await flow.lookup(code, view.user.id, who)
        await flow.decide(code, view.user.id, approve, who)
    except errors.OAuthError as exc:
        return device_error(request, view, exc, code)
    return redirect(f"{Paths.DEVICE_DONE_PAGE}?{urlencode({'user_code': code})}")


@router.post(Paths.DEVICE_APPROVE_PAGE)
async def device_approve(request: Request) -> Response:
    return await _decide(request, approve=True)


@router.post(Paths.DEVICE_DENY_PAGE)
async def device_deny(request: Request) -> Response:
    return await _decide(request, approve=False)


@router.get(Paths.DEVICE_DONE_PAGE)
async def device_done(request: Request) -> Response:
    """The result of approving or denying, as it stands now (reloading it is harmless)."""
    raw = request.query_params.get("user_code", "")
    code = parse_user_code(raw)
    if code is None:
        return redirect(Paths.DEVICE_PAGE)
    view = await page_session(request)
    if view is None:
        return redirect(login_url(device_url(code)))
    if is_cross_site(request):
        return redirect(device_url(code))
    try:
        found = await services(request).device_flow.lookup(code, None, caller(request))
    except errors.OAuthError as exc:
        return device_error(request, view, exc, code)
    if found.status == "pending":
        return redirect(device_url(code))
    approved = found.status == "approved"
    return render("device_done.html", user=view.user, approved=approved, code=found.user_code)
