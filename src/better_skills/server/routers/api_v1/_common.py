"""What every /api/v1 endpoint shares: the caller, the services, JSON responses, errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel
from starlette.responses import Response

from better_skills.server.dependencies import current_principal, services
from better_skills.server.principal import Principal
from better_skills.server.schemas import Error
from better_skills.server.services.container import Services

CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
AppServices = Annotated[Services, Depends(services)]

NO_STORE = "no-store"
#: Answers with an ETag may be kept, but must be checked again (If-None-Match) before use.
REVALIDATE = "private, no-cache"

_ERROR = {"model": Error}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "invalid_request or validation_failed (with details)"},
    401: {**_ERROR, "description": "unauthorized"},
    403: {**_ERROR, "description": "forbidden"},
    404: {**_ERROR, "description": "not_found (also for what the caller cannot read)"},
}


def errors_for(*codes: int) -> dict[int | str, dict[str, Any]]:
    names = {
        409: "conflict",
        412: "precondition_failed",
        413: "payload_too_large",
        415: "unsupported_media_type",
        429: "too_many_requests (RATE_LIMIT_WRITES), with Retry-After",
    }
    extra = {code: {**_ERROR, "description": names[code]} for code in codes}
    return {**ERRORS, **extra}


def json_response(
    model: BaseModel,
    status_code: int = 200,
    *,
    etag: str | None = None,
    exclude_unset: bool = False,
) -> Response:
    headers = {"Cache-Control": REVALIDATE if etag else NO_STORE}
    if etag:
        headers["ETag"] = etag
    return Response(
        model.model_dump_json(exclude_unset=exclude_unset),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": REVALIDATE})
