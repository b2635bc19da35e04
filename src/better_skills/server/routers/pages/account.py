"""The landing page and the account page: who you are, where you are signed in."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol.device_flow import Paths
from better_skills.server.dependencies import caller, services
from better_skills.server.http import delete_session_cookie
from better_skills.server.routers.pages._agents import describe_agents
from better_skills.server.routers.pages._forms import (
    Form,
    form_post,
    login_url,
    page_session,
    session_csrf,
)
from better_skills.server.routers.pages._render import error_page, redirect, render
from better_skills.server.routers.pages._time import moment, now_ms
from better_skills.server.routers.pages.device import CLIENT_NAMES
from better_skills.server.services import Caller
from better_skills.server.services.sessions import SessionView
from better_skills.server.services.tokens import NewToken

router = APIRouter()

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SESSION_KINDS = {"device": "Command line", "browser": "Browser"}
#: What ``?done=`` after a redirect says on the account page.
NOTICES = {
    "revoked": "Session revoked. That device is signed out.",
    "token-revoked": "Token revoked. Programs that use it are refused from now on.",
}
#: The new-token form's expiry choices, in days (the service accepts 1 to 365).
EXPIRY_CHOICES = [(1, "1 day"), (7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]
DEFAULT_TOKEN_DAYS = 30


@router.get(Paths.HOME_PAGE)
async def home(request: Request) -> Response:
    view = await page_session(request)
    return render("index.html", user=view.user if view else None)


@dataclass
class TokenForm:
    """The new-token form's state: the secret just made (shown once), or an error."""

    new_token: NewToken | None = None
    error: str = ""
    field: str = ""
    name: str = ""
    days: int = DEFAULT_TOKEN_DAYS


async def account_page(
    request: Request,
    view: SessionView,
    tokens: TokenForm | None = None,
    *,
    notice: str = "",
    status: int = 200,
) -> Response:
    """The account page: sessions (this browser's first), access tokens, sign-out buttons."""
    user_id = view.user.id
    rows = await services(request).sessions.list_for_user(user_id)
    token_rows = await services(request).tokens.list_for_user(user_id)
    now = now_ms(request)
    current = view.session.id
    names = await describe_agents(row.user_agent for row in rows)
    listed = [
        {
            "id": row.id,
            "kind": SESSION_KINDS.get(row.kind, row.kind.title()),
            "is_device": row.kind == "device",
            "client_id": row.client_id,
            "client_name": CLIENT_NAMES.get(row.client_id or ""),
            "created": moment(row.created_at, now),
            "last_used": moment(row.last_used_at, now),
            "expires": moment(row.expires_at, now),
            "ip_address": row.ip_address,
            "user_agent": row.user_agent,
            "device": names[row.user_agent],
            "hostname": row.hostname,
            "current": row.id == current,
        }
        for row in rows
    ]
    listed.sort(key=lambda s: not s["current"])  # stable: the rest stay newest first
    invitations = [
        {"item": i, "expires": moment(i.expires_at, now)}
        for i in await services(request).teams.my_invitations(user_id)
    ]
    access_tokens = [
        {
            "id": token.id,
            "name": token.name,
            "created": moment(token.created_at, now),
            "expires": moment(token.expires_at, now),
            "expired": token.expires_at <= now,
            "last_used": moment(token.last_used_at, now) if token.last_used_at else None,
        }
        for token in token_rows
    ]
    return render(
        "account.html",
        status=status,
        user=view.user,
        sessions=listed,
        has_terminal=any(s["is_device"] for s in listed),
        access_tokens=access_tokens,
        invitations=invitations,
        token_form=tokens or TokenForm(),
        expiry_choices=EXPIRY_CHOICES,
        csrf_token=session_csrf(request, view),
        new_token_expires=moment(tokens.new_token.expires_at, now)
        if tokens and tokens.new_token
        else None,
        notice_text=notice or NOTICES.get(request.query_params.get("done", ""), ""),
    )


@router.get(Paths.ACCOUNT_PAGE)
async def account(request: Request) -> Response:
    view = await page_session(request)
    if view is None:
        return redirect(login_url(Paths.ACCOUNT_PAGE))
    return await account_page(request, view)


async def revoke_own(
    request: Request,
    item_id: str,
    id_pattern: re.Pattern[str],
    revoke: Callable[[str, str, Caller], Awaitable[bool]],
    not_found: tuple[str, str],
) -> Response | SessionView:
    """An account-page revoke button (a session's or a token's): check the form, then revoke
    one of the signed-in account's own items. The view once revoked, else the page to answer
    with (the sign-in, a refused form, or ``not_found``'s title and text as a 404)."""
    form = await form_post(request, [])
    if not isinstance(form, Form):
        return form
    view = form.view
    if view is None:
        return redirect(login_url(Paths.ACCOUNT_PAGE))
    found = bool(id_pattern.fullmatch(item_id)) and await revoke(
        view.user.id, item_id, caller(request)
    )
    if not found:
        title, text = not_found
        return error_page(
            view.user, 404, title, text, link=(Paths.ACCOUNT_PAGE, "Back to your account")
        )
    return view


@router.post(Paths.REVOKE_SESSION_PAGE)
async def revoke_session(request: Request, session_id: str) -> Response:
    view = await revoke_own(
        request,
        session_id,
        _SESSION_ID,
        services(request).sessions.revoke,
        ("Session not found", "That session has already ended or is not one of yours."),
    )
    if isinstance(view, Response):
        return view
    if session_id == view.session.id:
        response = redirect(Paths.LOGIN_PAGE)
        delete_session_cookie(response, services(request).settings)
        return response
    return redirect(f"{Paths.ACCOUNT_PAGE}?done=revoked")


@router.post(Paths.SIGN_OUT_EVERYWHERE_PAGE)
async def sign_out_everywhere(request: Request) -> Response:
    """End every session of the account: every browser (this one too) and every terminal."""
    form = await form_post(request, [])
    if not isinstance(form, Form):
        return form
    if form.view is not None:
        await services(request).sessions.revoke_all(form.view.user.id, caller(request))
    response = redirect(f"{Paths.LOGIN_PAGE}?done=everywhere")
    delete_session_cookie(response, services(request).settings)
    return response
