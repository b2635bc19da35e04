"""Personal access tokens on the account page: create one (shown once) and revoke one."""

from __future__ import annotations

import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol.device_flow import Paths
from better_skills.server import fields
from better_skills.server.dependencies import caller, services
from better_skills.server.routers.pages._forms import Form, echo, form_post, login_url
from better_skills.server.routers.pages._render import redirect
from better_skills.server.routers.pages.account import (
    EXPIRY_CHOICES,
    TokenForm,
    account_page,
    revoke_own,
)
from better_skills.server.services.tokens import ValidationFailed

router = APIRouter()

_TOKEN_ID = re.compile(r"[0-9a-fA-F-]{1,64}")
_DAYS = {str(days) for days, _ in EXPIRY_CHOICES}


@router.post(Paths.TOKENS_PAGE)
async def create_token(request: Request) -> Response:
    """Make a token and show it on the page this once. No redirect: the secret must not go
    into a URL or a cookie, and the page is ``no-store``."""
    form = await form_post(request, ["name", "expires_in_days"])
    if not isinstance(form, Form):
        return form
    view = form.view
    if view is None:
        return redirect(login_url(Paths.ACCOUNT_PAGE))
    name, raw_days = form.params.get("name", ""), form.params.get("expires_in_days", "")
    state = TokenForm(name=echo(name, fields.ACCESS_TOKEN_NAME))
    if raw_days not in _DAYS:
        state.error, state.field = "Choose when the token expires.", "expires"
        return await account_page(request, view, state, status=400)
    state.days = int(raw_days)
    try:
        state.new_token = await services(request).tokens.create(
            view, name, state.days, caller(request)
        )
    except ValidationFailed as exc:
        state.error, state.field = exc.description, exc.details[0]["path"]
        return await account_page(request, view, state, status=400)
    return await account_page(request, view, TokenForm(new_token=state.new_token))


@router.post(Paths.REVOKE_TOKEN_PAGE)
async def revoke_token(request: Request, token_id: str) -> Response:
    view = await revoke_own(
        request,
        token_id,
        _TOKEN_ID,
        services(request).tokens.revoke,
        ("Token not found", "That token has already been revoked or is not one of yours."),
    )
    if isinstance(view, Response):
        return view
    return redirect(f"{Paths.ACCOUNT_PAGE}?done=token-revoked")
