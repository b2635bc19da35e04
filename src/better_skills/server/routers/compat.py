"""The two tRPC queries the original TypeScript CLI calls (``healthCheck`` and ``me``).

tRPC over HTTP without a transformer: with ``?batch=1`` the answer is a list with one entry per
call; without it, the bare entry. Errors carry a numeric JSON-RPC style ``code``, which that
client needs in order to parse them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from better_skills.protocol.device_flow import Paths
from better_skills.server.dependencies import current_session

router = APIRouter(tags=["compat"])

UNAUTHORIZED = {
    "error": {
        "message": "Authentication required",
        "code": -32001,
        "data": {"code": "UNAUTHORIZED", "httpStatus": 401, "path": "me"},
    }
}


def trpc(request: Request, entry: dict[str, Any], status_code: int = 200) -> Response:
    batched = request.query_params.get("batch") in ("1", "true")
    return JSONResponse(
        [entry] if batched else entry,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@router.get(Paths.TRPC_HEALTH, summary="tRPC healthCheck (original CLI)")
async def health_check(request: Request) -> Response:
    return trpc(request, {"result": {"data": "OK"}})


TRPC_ERROR = {
    "description": "tRPC error (no valid session)",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"type": "object", "required": ["error"]},
                    {"type": "array", "items": {"type": "object", "required": ["error"]}},
                ]
            }
        }
    },
}


@router.get(Paths.TRPC_ME, summary="tRPC me (original CLI)", responses={401: TRPC_ERROR})
async def me(request: Request) -> Response:
    view = await current_session(request)
    if view is None:
        return trpc(request, UNAUTHORIZED, 401)
    user = {"id": view.user["id"], "name": view.user["name"], "email": view.user["email"]}
    return trpc(request, {"result": {"data": {"user": user}}})
