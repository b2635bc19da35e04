"""What the web console's pages share: their paths, the sign-in redirect, the "skill not
found" page, loading a skill the viewer can read, and the colour class of each vault."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.server.dependencies import services
from better_skills.server.principal import Principal
from better_skills.server.routers.pages._forms import login_url, page_session
from better_skills.server.routers.pages._render import error_page, redirect
from better_skills.server.services.sessions import SessionView
from better_skills.server.services.skills import Skill
from better_skills.server.services.vaults import Vault

WELCOME_PAGE = "/welcome"
VAULT_PAGE = "/vault"
GRAPH_PAGE = "/vault/graph"


def principal_of(view: SessionView) -> Principal:
    """The page's viewer as the principal the services' read rules take."""
    return Principal(view.user.id, view.session.id, "cookie")


def skill_not_found(view: SessionView) -> Response:
    return error_page(
        view.user,
        404,
        "Skill not found",
        "There is no such skill, or it is in a vault you are not a member of.",
        link=(VAULT_PAGE, "Back to your vault"),
    )


async def session_or_login(request: Request) -> SessionView | Response:
    """The viewer's session, or a redirect to sign in that comes back to this page."""
    view = await page_session(request)
    if view is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(login_url(target))
    return view


def vault_groups(vaults: list[Vault]) -> dict[str, int]:
    """A colour class per vault, by its place in the viewer's list."""
    return {v.id: i for i, v in enumerate(vaults)}


async def load_skill(request: Request, view: SessionView, skill_id: str) -> Skill | None:
    """The skill with its files' content, or None when the viewer cannot read it."""
    try:
        return await services(request).skills.get(view.user.id, skill_id, content=True)
    except errors.NotFound:
        return None
