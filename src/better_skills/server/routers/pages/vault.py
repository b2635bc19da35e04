"""The web console's entry pages: the welcome page, the vault (skills, search) and the switch
that turns a vault on or off for sync.

Every read goes through the services the API uses, so the permission rules are theirs. A
skill's own page and its edits are in ``skill`` and ``skill_edit``, the graphs in ``graph``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.server.dependencies import services
from better_skills.server.render.links import skill_url
from better_skills.server.routers.pages._console import (
    VAULT_PAGE,
    WELCOME_PAGE,
    principal_of,
    session_or_login,
    vault_groups,
)
from better_skills.server.routers.pages._forms import Form, form_post, login_url, session_csrf
from better_skills.server.routers.pages._render import error_page, redirect, render
from better_skills.server.services import search as search_service

router = APIRouter()

#: The most skills the vault page lists at once (then a "more" link).
PAGE_SIZE = 100


@router.get(WELCOME_PAGE)
async def welcome(request: Request) -> Response:
    view = await session_or_login(request)
    if isinstance(view, Response):
        return view
    server = services(request).settings.public_url.rstrip("/")
    return render("welcome.html", user=view.user, server=server)


@router.get(VAULT_PAGE)
async def vault_page(request: Request) -> Response:
    view = await session_or_login(request)
    if isinstance(view, Response):
        return view
    svc = services(request)
    user_id = view.user.id
    vaults = await svc.vaults.list_for(user_id)
    query = (request.query_params.get("q") or "").strip()
    vault_ref = request.query_params.get("vault") or ""
    chosen = next((v for v in vaults if vault_ref in (v.id, v.slug)), None)
    error = ""
    skills: list[Any] = []
    total = 0
    next_cursor = None
    if query:
        try:
            parsed = search_service.parse_query(query)
            hits, total = await search_service.search(
                svc.db, principal_of(view), parsed, search_service.MAX_LIMIT
            )
            skills = [
                {"summary": h.summary, "snippet": h.snippet, "match": h.match}
                for h in hits
                if chosen is None or h.summary.vault.id == chosen.id
            ]
            if chosen is not None:  # the count of all hits is over every vault
                total = len(skills)
        except errors.InvalidRequest as exc:
            error = exc.description
    else:
        cursor = request.query_params.get("cursor") or None
        try:
            page = await svc.skills.list(
                user_id, vault=chosen.id if chosen else None, limit=PAGE_SIZE, cursor=cursor
            )
        except errors.InvalidRequest:
            page = await svc.skills.list(user_id, vault=chosen.id if chosen else None)
        skills = [{"summary": s, "snippet": None, "match": None} for s in page.items]
        next_cursor = page.next_cursor
        total = chosen.skill_count if chosen else sum(v.skill_count for v in vaults)
    more_url = (
        f"{VAULT_PAGE}?{urlencode({'vault': chosen.slug if chosen else '', 'cursor': next_cursor})}"
        if next_cursor
        else None
    )
    return render(
        "vault.html",
        user=view.user,
        vaults=vaults,
        groups=vault_groups(vaults),
        chosen=chosen,
        query=query,
        skills=skills,
        total=total,
        error=error,
        more_url=more_url,
        csrf_token=session_csrf(request, view),
        skill_url=skill_url,
    )


@router.post("/vault/vaults/{vault_id}/enabled")
async def set_vault_enabled(request: Request, vault_id: str) -> Response:
    form = await form_post(request, ["enabled", "next"])
    if not isinstance(form, Form):
        return form
    if form.view is None:
        return redirect(login_url(VAULT_PAGE))
    enabled = form.params.get("enabled") == "1"
    try:
        await services(request).vaults.set_enabled(form.view.user.id, vault_id, enabled)
    except errors.NotFound:
        return error_page(
            form.view.user, 404, "Vault not found", "You are not a member of that vault."
        )
    return redirect(VAULT_PAGE)
