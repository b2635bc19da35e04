"""``/settings``: vault switches, pending invitations, team vault management, and deleting
the account. Every change is a form POST through the one form guard (origin, CSRF), then a
redirect back (post/redirect/get); a refusal renders the page again with the service's own
sentence and its 4xx status."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.protocol.device_flow import Paths
from better_skills.server.dependencies import services
from better_skills.server.fields import EMAIL_COLUMN
from better_skills.server.http import delete_session_cookie
from better_skills.server.routers.api_v1.teams import invitation_url
from better_skills.server.routers.pages._forms import (
    Form,
    echo,
    form_post,
    login_url,
    page_session,
    session_csrf,
)
from better_skills.server.routers.pages._render import redirect, render
from better_skills.server.routers.pages._time import moment, now_ms
from better_skills.server.services.sessions import SessionView

router = APIRouter()

SETTINGS_PAGE = "/settings"
_ID = re.compile(rf"[A-Za-z0-9_.@+-]{{1,{EMAIL_COLUMN}}}")  # a user id or email
#: What ``?done=`` after a redirect says; never text from the request itself.
NOTICES = {
    "enabled": "The vault is included in sync again.",
    "disabled": "The vault is left out of sync. Run better-skills sync to remove its skills.",
    "accepted": "You joined the vault. Run better-skills sync to install its skills.",
    "declined": "Invitation declined.",
    "created": "Team vault created. Invite people below.",
    "updated": "Vault updated.",
    "role": "Role changed.",
    "removed": "Member removed.",
    "invited": "Invitation created. No mail is sent: copy its link below and send it.",
    "revoked": "Invitation revoked; its link no longer works.",
    "transferred": "Ownership transferred. You are now an admin of the vault.",
    "left": "You left the vault.",
}
DEFAULT_COLOR = "#0f766e"


async def settings_page(
    request: Request,
    view: SessionView,
    *,
    error: str = "",
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    """The whole page, for ``view``'s user."""
    svc = services(request)
    user_id = view.user.id
    now = now_ms(request)
    vaults = await svc.vaults.list_for(user_id)
    invitations = await svc.teams.my_invitations(user_id)
    teams = []
    for vault in vaults:
        if vault.type != "team":
            continue
        team: dict[str, Any] = {"vault": vault, "members": [], "invitations": []}
        if vault.role in ("owner", "admin"):
            _, team["members"] = await svc.teams.members(user_id, vault.id)
            team["invitations"] = [
                {
                    "item": i,
                    "url": invitation_url(svc.settings.public_url, i.id),
                    "expires": moment(i.expires_at, now),
                    "expired": i.expired(now),
                }
                for i in await svc.teams.vault_invitations(user_id, vault.id)
            ]
        teams.append(team)
    highlighted = request.query_params.get("invitation", "")
    return render(
        "settings.html",
        status=status,
        user=view.user,
        csrf_token=session_csrf(request, view),
        vaults=vaults,
        invitations=[
            {"item": i, "expires": moment(i.expires_at, now), "highlight": i.id == highlighted}
            for i in invitations
        ],
        unknown_invitation=bool(highlighted) and highlighted not in {i.id for i in invitations},
        teams=teams,
        can_create=svc.settings.team_vaults == "anyone" or await _is_admin(request, user_id),
        default_color=DEFAULT_COLOR,
        form=form or {},
        error_text=error,
        notice_text=NOTICES.get(request.query_params.get("done", ""), ""),
        settings_page=SETTINGS_PAGE,
    )


async def _is_admin(request: Request, user_id: str) -> bool:
    from better_skills.server.queries import teams as q

    async with services(request).db.read() as tx:
        row = await q.user_by_id(tx, user_id)
    return bool(row and row.is_admin)


@router.get(SETTINGS_PAGE)
async def settings(request: Request) -> Response:
    view = await page_session(request)
    if view is None:
        query = request.url.query
        return redirect(login_url(SETTINGS_PAGE + (f"?{query}" if query else "")))
    return await settings_page(request, view)


Action = Callable[[Form, SessionView], Awaitable[str]]


async def _act(request: Request, fields: list[str], action: Action, *ids: str) -> Response:
    """The guard, then ``action`` (which returns the ``done`` key), then back to the page;
    a refusal of the service is the page again with its sentence and status."""
    form = await form_post(request, fields)
    if not isinstance(form, Form):
        return form
    view = form.view
    if view is None:
        return redirect(login_url(SETTINGS_PAGE))
    try:
        if not all(_ID.fullmatch(i) for i in ids):
            raise errors.NotFound("Not found.")
        done = await action(form, view)
    except errors.OAuthError as exc:
        message = exc.description
        # Cut at the widest field these forms have, an email address.
        echoed = {k: echo(v, EMAIL_COLUMN) for k, v in form.params.items() if k != "csrf_token"}
        return await settings_page(
            request, view, error=message, status=exc.status_code, form=echoed
        )
    return redirect(f"{SETTINGS_PAGE}?{urlencode({'done': done})}")


@router.post(SETTINGS_PAGE + "/vaults/{vault_id}/switch")
async def switch(request: Request, vault_id: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        enabled = form.params.get("enabled") == "1"
        await services(request).vaults.set_enabled(view.user.id, vault_id, enabled)
        return "enabled" if enabled else "disabled"

    return await _act(request, ["enabled"], action, vault_id)


@router.post(SETTINGS_PAGE + "/invitations/{invitation_id}/{verb}")
async def answer(request: Request, invitation_id: str, verb: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        teams = services(request).teams
        if verb == "accept":
            await teams.accept(view.user.id, invitation_id)
            return "accepted"
        if verb == "decline":
            await teams.decline(view.user.id, invitation_id)
            return "declined"
        raise errors.NotFound("Not found.")

    return await _act(request, [], action, invitation_id)


@router.post(SETTINGS_PAGE + "/teams")
async def create_team(request: Request) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        p = form.params
        await services(request).teams.create_vault(
            view.user.id, p.get("name", ""), p.get("slug") or None, p.get("color") or None
        )
        return "created"

    return await _act(request, ["name", "slug", "color"], action)


@router.post(SETTINGS_PAGE + "/teams/{vault_id}")
async def update_team(request: Request, vault_id: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        p = form.params
        color = None if p.get("no_color") == "1" else p.get("color")
        await services(request).teams.update_vault(
            view.user.id, vault_id, name=p.get("name", ""), color=color, set_color=True
        )
        return "updated"

    return await _act(request, ["name", "color", "no_color"], action, vault_id)


@router.post(SETTINGS_PAGE + "/teams/{vault_id}/members/{user_id}/role")
async def change_role(request: Request, vault_id: str, user_id: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        role = form.params.get("role", "")
        await services(request).teams.change_role(view.user.id, vault_id, user_id, role)
        return "role"

    return await _act(request, ["role"], action, vault_id, user_id)


@router.post(SETTINGS_PAGE + "/teams/{vault_id}/members/{user_id}/remove")
async def remove_member(request: Request, vault_id: str, user_id: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        await services(request).teams.remove_member(view.user.id, vault_id, user_id)
        return "removed"

    return await _act(request, [], action, vault_id, user_id)


@router.post(SETTINGS_PAGE + "/teams/{vault_id}/invitations")
async def invite(request: Request, vault_id: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        p = form.params
        await services(request).teams.invite(
            view.user.id, view.user.email, vault_id, p.get("email", ""), p.get("role", "")
        )
        return "invited"

    return await _act(request, ["email", "role"], action, vault_id)


@router.post(SETTINGS_PAGE + "/teams/{vault_id}/invitations/{invitation_id}/revoke")
async def revoke(request: Request, vault_id: str, invitation_id: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        await services(request).teams.revoke_invitation(view.user.id, vault_id, invitation_id)
        return "revoked"

    return await _act(request, [], action, vault_id, invitation_id)


@router.post(SETTINGS_PAGE + "/teams/{vault_id}/transfer")
async def transfer(request: Request, vault_id: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        target = form.params.get("user_id", "")
        await services(request).teams.transfer(view.user.id, vault_id, target)
        return "transferred"

    return await _act(request, ["user_id"], action, vault_id)


@router.post(SETTINGS_PAGE + "/teams/{vault_id}/leave")
async def leave(request: Request, vault_id: str) -> Response:
    async def action(form: Form, view: SessionView) -> str:
        await services(request).teams.leave(view.user.id, vault_id)
        return "left"

    return await _act(request, [], action, vault_id)


@router.post(SETTINGS_PAGE + "/delete-account")
async def delete_account(request: Request) -> Response:
    """Delete the account once the person has typed its email; then sign this browser out."""
    form = await form_post(request, ["confirm_email"])
    if not isinstance(form, Form):
        return form
    view = form.view
    if view is None:
        return redirect(login_url(SETTINGS_PAGE))
    typed = form.params.get("confirm_email", "").strip().lower()
    if typed != view.user.email.lower():
        return await settings_page(
            request,
            view,
            error="Type your account's email exactly to confirm the deletion.",
            status=400,
        )
    try:
        await services(request).teams.delete_account(view.user.id)
    except errors.OAuthError as exc:
        return await settings_page(request, view, error=exc.description, status=exc.status_code)
    response = redirect(f"{Paths.HOME_PAGE}?{urlencode({'done': 'account-deleted'})}")
    delete_session_cookie(response, services(request).settings)
    return response
