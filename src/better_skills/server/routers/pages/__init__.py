"""Server-rendered pages, one module per area; they work without JavaScript (the CSP allows
none).

* ``_render``: the Jinja environment, page responses, redirects and refusals;
* ``_forms``: the one guard every form POST passes (origin, parse, session, CSRF), the two
  CSRF schemes and the input validators;
* ``_time``: times as the pages show them;
* ``auth``: sign in, sign up, sign out; ``device``: the approval of a device code;
  ``account``: the landing and account pages; ``tokens``: personal access tokens on it;
* ``share``: the public share page and the forms that import and create shares;
* ``settings``: vault switches, invitations, team vaults, deleting the account;
* the web console: ``vault`` (welcome, the vault, its switches), ``skill`` (a skill's page and
  downloads), ``skill_edit`` (its edit and upload forms), ``graph`` (the graphs), and
  ``_console``, what they share.

Handlers translate HTTP to service calls and render every expected failure as a page with a
4xx status, never a 500 or a JSON body.
"""

from __future__ import annotations

from fastapi import APIRouter

from better_skills.server.routers.pages import (
    account,
    auth,
    device,
    graph,
    settings,
    share,
    skill,
    skill_edit,
    tokens,
    vault,
)
from better_skills.server.routers.pages._forms import safe_next

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)
router.include_router(account.router)
router.include_router(auth.router)
router.include_router(device.router)
router.include_router(tokens.router)
router.include_router(share.router)
router.include_router(settings.router)
router.include_router(vault.router)
router.include_router(skill.router)
router.include_router(skill_edit.router)
router.include_router(graph.router)
