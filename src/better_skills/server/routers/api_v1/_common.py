"""What every /api/v1 endpoint shares: the caller, the services, JSON responses, errors."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from better_skills.server.dependencies import current_principal, require_write_scope
from better_skills.server.principal import Principal
from better_skills.server.schemas import Error
from better_skills.server.services.container import Services


async def _services(request: Request) -> Services:
    # ``async``: FastAPI runs a plain ``def`` dependency on a worker thread, and the hop
    # there and back cost more than a whole indexed read (profile of the 304 manifest).
    return request.app.state.services


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def _write_principal(principal: CurrentPrincipal) -> Principal:
    require_write_scope(principal)
    return principal


#: The caller of a route that writes. Resolving it refuses a principal without ``vault:write``
#: (403 forbidden), so a write route states the check in its signature and cannot forget it;
#: tests/vault/test_write_scope.py fails for a POST, PUT, PATCH or DELETE route without it.
WritePrincipal = Annotated[Principal, Depends(_write_principal)]
AppServices = Annotated[Services, Depends(_services)]

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


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def encode_json(data: Any) -> bytes:
    """Plain data as JSON the way ``json_response`` encodes a model: compact, UTF-8."""
    return _ENCODE(data).encode()


def raw_json_response(body: bytes, status_code: int = 200, *, etag: str | None = None) -> Response:
    """JSON already encoded (:func:`encode_json`), with ``json_response``'s headers."""
    headers = {"Cache-Control": REVALIDATE if etag else NO_STORE}
    if etag:
        headers["ETag"] = etag
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def data_response(data: Any, status_code: int = 200, *, etag: str | None = None) -> Response:
    """Plain data (already in the wire's shape) as JSON, encoded as ``json_response`` would
    encode the matching model. For the hot paths, where building and validating one model
    per row cost more than reading the rows."""
    return raw_json_response(encode_json(data), status_code, etag=etag)


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": REVALIDATE})
