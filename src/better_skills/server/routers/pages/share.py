"""The public share page ``/share/<id>`` (anyone with the link), its "Import" form, and the
form that shares a skill from its vault page (``/vault/skills/<id>/share``).

SKILL.md is rendered by the console's renderer (``better_skills.server.render``: sanitised
HTML), mentions shown as the names they stand for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.protocol.device_flow import Paths
from better_skills.protocol.shares import SHARE_PAGE
from better_skills.server.dependencies import caller, services
from better_skills.server.render import render_markdown
from better_skills.server.render.links import SKILL_PAGE
from better_skills.server.routers.pages._forms import (
    Form,
    form_post,
    login_url,
    page_session,
    session_csrf,
)
from better_skills.server.routers.pages._render import error_page, redirect, render
from better_skills.server.routers.pages._time import moment, now_ms
from better_skills.server.services.shares import Share, ShareSkill
from better_skills.server.services.skills import SKILL_MD
from better_skills.skillfmt import mentions

log = logging.getLogger("better_skills.server.pages")
router = APIRouter()

IMPORT_PAGE = SHARE_PAGE + "/import"
VAULT_SHARE_PAGE = SKILL_PAGE + "/share"
NOT_FOUND = (
    "Share not found",
    "This share link does not exist or was revoked by the person who made it.",
)
#: The most bytes of one file shown on the page (the bundle has all of it).
MAX_SHOWN = 200_000


def _rendered(text: str) -> Markup:
    return Markup(render_markdown(text))  # noqa: S704 (sanitised by render_markdown)


@dataclass(frozen=True)
class ShownFile:
    path: str
    kind: str
    size: int
    text: str | None  # None: binary, or too long to show


def _labels(share: Share) -> Callable[[mentions.Token], str]:
    """Mentions as what they name inside the share (a skill's name, a file's path)."""
    names = {s.id: s.name for s in share.skills}
    files = {f.id: f.path for s in share.skills for f in s.files}

    def label(token: mentions.Token) -> str:
        found = (names if token.kind == "skill" else files).get(token.target)
        return found if found is not None and not token.draft else f"(unknown {token.kind})"

    return label


def _files(share: Share, skill: ShareSkill) -> list[ShownFile]:
    label = _labels(share)
    return [
        ShownFile(
            f.path,
            f.kind,
            len(f.content),
            mentions.render(f.content.decode("utf-8"), label)
            if mentions.is_text(f.content) and len(f.content) <= MAX_SHOWN
            else None,
        )
        for f in skill.files
    ]


def _share_url(request: Request, share_id: str) -> str:
    base = services(request).settings.public_url.rstrip("/")
    return base + SHARE_PAGE.format(share_id=share_id)


@router.get(SHARE_PAGE)
async def share_page(request: Request, share_id: str) -> Response:
    view = await page_session(request)
    user = view.user if view else None
    try:
        share: Share = await services(request).shares.get(share_id)
    except errors.NotFound:
        return error_page(user, 404, *NOT_FOUND, link=(Paths.HOME_PAGE, "Go to the start page"))
    wanted = request.query_params.get("skill", "")
    active = next((s for s in share.skills if s.id == wanted), share.root)
    files = _files(share, active)
    skill_md = next((f for f in files if f.path == SKILL_MD), None)
    url = _share_url(request, share.id)
    done = request.query_params.get("done", "")
    return render(
        "share.html",
        user=user,
        csrf_token=session_csrf(request, view) if view else "",
        share=share,
        active=active,
        files=files,
        skill_md=skill_md,
        rendered=_rendered(skill_md.text) if skill_md and skill_md.text is not None else None,
        url=url,
        command=f"better-skills install-share {url}",
        import_action=IMPORT_PAGE.format(share_id=share.id),
        login_href=login_url(SHARE_PAGE.format(share_id=share.id)),
        created=moment(share.created_at, now_ms(request)),
        imported=done == "imported",
        page_path=SHARE_PAGE.format(share_id=share.id),
    )


@router.post(IMPORT_PAGE)
async def import_share(request: Request, share_id: str) -> Response:
    """The "Import" button: a copy in the signed-in person's personal vault."""
    form = await form_post(request, [])
    if not isinstance(form, Form):
        return form
    if form.view is None:
        return redirect(login_url(SHARE_PAGE.format(share_id=share_id)))
    try:
        result = await services(request).shares.import_share(
            form.view.user.id, share_id, ip=caller(request).ip
        )
    except errors.NotFound:
        return error_page(form.user, 404, *NOT_FOUND)
    except errors.OAuthError as exc:
        return error_page(form.user, exc.status_code, "Could not import", exc.description)
    log.info("share imported: %d skill(s)", len(result.skills))
    return redirect(SHARE_PAGE.format(share_id=share_id.lower()) + "?done=imported")


@router.post(VAULT_SHARE_PAGE)
async def share_from_vault(request: Request, skill_id: str) -> Response:
    """The skill page's "Share" button: make a share, then show its page."""
    form = await form_post(request, [])
    if not isinstance(form, Form):
        return form
    if form.view is None:
        return redirect(login_url(Paths.ACCOUNT_PAGE))
    try:
        share = await services(request).shares.create(
            form.view.user.id, skill_id, ip=caller(request).ip
        )
    except errors.NotFound:
        return error_page(
            form.user, 404, "Skill not found", "There is no such skill among your vaults."
        )
    except errors.OAuthError as exc:
        return error_page(form.user, exc.status_code, "Could not share", exc.description)
    return redirect(SHARE_PAGE.format(share_id=share.id))
