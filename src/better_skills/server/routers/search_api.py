"""``GET /api/v1/skills/search``: ranked search over the caller's skills.

Included before the ``/api/v1/skills/{id}`` routes, so that "search" is never taken for an id.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from better_skills.server.queries import search as search_queries
from better_skills.server.routers.api_v1._common import (
    AppServices,
    CurrentPrincipal,
    errors_for,
    json_response,
)
from better_skills.server.schemas import SkillSummaryOut
from better_skills.server.services import search as search_service

router = APIRouter(prefix="/api/v1", tags=["skills"])
_CAP = f"{search_queries.COUNT_CAP:,}"


class SearchItemOut(SkillSummaryOut):
    match: Literal["name", "description", "content"]
    score: float
    snippet: str | None


class SearchOut(BaseModel):
    items: list[SearchItemOut]
    total: int
    total_exact: bool = Field(
        description=f"False when counting stopped at {_CAP} matches: `total` is then a lower bound."
    )


@router.get(
    "/skills/search",
    summary="Ranked search over name, slug, description and file content",
    description=(
        "Within the caller's vaults. `q` (1 to 200 characters; `%` and `_` are literal) and "
        "`limit` (1 to 50, default 20). Items are `SkillSummary` plus `match` "
        '("name", "description" or "content"), `score` (0 to 1) and `snippet` (content hits: '
        "up to 40 characters either side of the first occurrence); `total` counts the hits, "
        f"up to {_CAP}: a common word or a one- or two-letter query can match more, and then "
        "`total_exact` is false and `total` a lower bound (ranking then orders the first "
        f"{_CAP} matches found). "
        "Name and slug hits rank above description hits, those above content hits. When "
        "nothing contains a query of four characters or more, names and slugs with a small "
        "typo are the hits. Queries of one or two characters match name, slug and "
        "description only."
    ),
    response_model=SearchOut,
    responses=errors_for(),
)
async def search_skills(
    request: Request, principal: CurrentPrincipal, app: AppServices
) -> Response:
    params = request.query_params
    query = search_service.parse_query(params.get("q"))
    limit = search_service.parse_limit(params.get("limit"))
    page = await search_service.search_page(app.db, principal, query, limit)
    items = [
        SearchItemOut(
            **SkillSummaryOut.from_record(h.summary).model_dump(),
            match=h.match,  # type: ignore[arg-type]
            score=h.score,
            snippet=h.snippet,
        )
        for h in page.hits
    ]
    return json_response(SearchOut(items=items, total=page.total, total_exact=page.total_exact))
