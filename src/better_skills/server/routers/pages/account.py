"""The landing page and the account page: who you are, where you are signed in."""

from __future__ import annotations

import re

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

router = APIRouter()

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SESSION_KINDS = {"device": "Command line", "browser": "Browser"}


@router.get(Paths.HOME_PAGE)
async def home(request: Request) -> Response:
    view = await page_session(request)
    return render("index.html", user=view.user if view else None)


@router.get(Paths.ACCOUNT_PAGE)
async def account(request: Request) -> Response:
    view = await page_session(request)
    if view is None:
        return redirect(login_url(Paths.ACCOUNT_PAGE))
    rows = await services(request).sessions.list_for_user(view.user["id"])
    now = now_ms(request)
    current = view.session["id"]
    names = await describe_agents(row["user_agent"] for row in rows)
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
            "device": names[row["user_agent"]],
            "hostname": row["hostname"],
            "current": row["id"] == current,
        }
        for row in rows
    ]
    listed.sort(key=lambda s: not s["current"])  # stable: the rest stay newest first
    return render(
        "account.html",
        user=view.user,
        sessions=listed,
        has_terminal=any(s["is_device"] for s in listed),
        csrf_token=session_csrf(request, view),
        revoked=request.query_params.get("revoked") == "1",
    )


@router.post(Paths.REVOKE_SESSION_PAGE)
async def revoke_session(request: Request, session_id: str) -> Response:
    form = await form_post(request, [])
    if not isinstance(form, Form):
        return form
    view = form.view
    if view is None:
        return redirect(login_url(Paths.ACCOUNT_PAGE))
    found = bool(_SESSION_ID.fullmatch(session_id)) and await services(request).sessions.revoke(
        view.user["id"], session_id, caller(request)
    )
    if not found:
        return error_page(
            view.user,
            404,
            "Session not found",
            "That session has already ended or is not one of yours.",
            link=(Paths.ACCOUNT_PAGE, "Back to your account"),
        )
    if session_id == view.session["id"]:
        response = redirect(Paths.LOGIN_PAGE)
        delete_session_cookie(response, services(request).settings)
        return response
    return redirect(f"{Paths.ACCOUNT_PAGE}?revoked=1")
