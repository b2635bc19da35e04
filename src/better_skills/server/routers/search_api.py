"""``GET /api/v1/skills/search``: ranked search over the caller's skills."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from better_skills.protocol import errors
from better_skills.server.dependencies import current_session, services
from better_skills.server.services import search as search_service

router = APIRouter(tags=["skills"])


@router.get(
    "/api/v1/skills/search",
    summary="Ranked search over name, slug, description and file content",
    description=(
        "Within the caller's vaults. `q` (1-200 characters; `%` and `_` are literal) and "
        "`limit` (1-50, default 20). Items are `SkillSummary` plus `match` "
        '("name", "description" or "content"), `score` (0-1) and `snippet` (content hits: '
        "the text around the first occurrence); `total` counts every hit. Name and slug hits "
        "rank above description hits, those above content hits; queries of four characters "
        "or more also find names with a small typo. Queries of one or two characters match "
        "name, slug and description only."
    ),
    responses={
        400: {"description": "`invalid_request`: no query, or a bad `limit`"},
        401: {"description": "`unauthorized`: no valid session or token"},
    },
)
async def search_skills(request: Request) -> Response:
    view = await current_session(request)
    if view is None:
        raise errors.Unauthorized("Sign in first.")
    query = search_service.parse_query(request.query_params.get("q"))
    limit = search_service.parse_limit(request.query_params.get("limit"))
    result = await search_service.search(services(request).db, view.user["id"], query, limit)
    return JSONResponse(result, headers={"Cache-Control": "no-store"})
