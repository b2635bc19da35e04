"""``/trpc/<path>``: the tRPC v11 HTTP transport (no transformer) the original CLI speaks.

Queries are ``GET /trpc/<path>?input=<JSON>``, mutations ``POST /trpc/<path>`` with a JSON
body. With ``?batch=1`` the paths are comma-joined, the inputs keyed by position
(``{"0": …}``) and the answer is a list with one envelope per call.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from better_skills.protocol import errors
from better_skills.server.body_limit import body_cap
from better_skills.server.dependencies import services
from better_skills.server.trpc.envelope import (
    TrpcError,
    failure,
    from_service_error,
    from_validation_error,
    success,
)
from better_skills.server.trpc.procedures import PROCEDURES, Context

router = APIRouter(tags=["trpc"])

#: The most calls one batched request may hold.
MAX_BATCH = 20


async def _call(ctx: Context, path: str, method: str, raw: Any) -> dict[str, Any]:
    try:
        proc = PROCEDURES.get(path)
        if proc is None:
            raise TrpcError("NOT_FOUND", f'No procedure found on path "{path}"')
        if (proc.kind == "query") != (method == "GET"):
            wanted = "GET" if proc.kind == "query" else "POST"
            raise TrpcError(
                "METHOD_NOT_SUPPORTED",
                f"Unsupported {method}-request to {proc.kind} "
                f'procedure at path "{path}" (use {wanted})',
            )
        body: Any = raw
        if proc.model is not None:
            try:
                body = proc.model.model_validate({} if raw is None else raw)
            except ValidationError as exc:
                raise from_validation_error(exc) from None
        return success(await proc.handler(ctx, body))
    except TrpcError as exc:
        return failure(exc, path)
    except errors.OAuthError as exc:
        return failure(from_service_error(exc), path)


def _parse_input(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise TrpcError("PARSE_ERROR", "The input is not valid JSON") from None


async def _read_body(request: Request) -> str:
    """The body, refused past the cap /api/v1 uses (a skill at its size limit, as JSON)."""
    settings = services(request).settings
    cap = body_cap(settings.max_skill_bytes, settings.max_skill_files)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise TrpcError("PAYLOAD_TOO_LARGE", f"The request body is larger than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


async def _handle(request: Request, paths: str) -> Response:
    batched = request.query_params.get("batch") in ("1", "true")
    names = paths.split(",") if batched else [paths]
    ctx = Context(request)
    try:
        if len(names) > MAX_BATCH:
            raise TrpcError("BAD_REQUEST", f"A batch holds at most {MAX_BATCH} calls")
        if request.method == "GET":
            raw = _parse_input(request.query_params.get("input"))
        else:
            raw = _parse_input(await _read_body(request))
        if batched:
            if raw is None:
                raw = {}
            if not isinstance(raw, dict):
                raise TrpcError("BAD_REQUEST", 'A batch input must be an object keyed "0", "1", …')
            inputs = [raw.get(str(i)) for i in range(len(names))]
        else:
            inputs = [raw]
    except TrpcError as exc:
        entries = [failure(exc, name) for name in names]
    else:
        entries = [
            await _call(ctx, n, request.method, i) for n, i in zip(names, inputs, strict=True)
        ]
    statuses = {e["error"]["data"]["httpStatus"] if "error" in e else 200 for e in entries}
    status = statuses.pop() if len(statuses) == 1 else 207
    return JSONResponse(
        entries if batched else entries[0],
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


TRPC_ANSWER = {
    "description": "A tRPC envelope ({result:{data}} or {error}), or a list of them with ?batch=1",
    "content": {"application/json": {"schema": {"anyOf": [{"type": "object"}, {"type": "array"}]}}},
}
#: Every status a call can end with (207: the calls of a batch ended differently).
RESPONSES: dict[int | str, dict] = {
    status: {**TRPC_ANSWER, "description": f"{TRPC_ANSWER['description']} ({status})"}
    for status in (200, 207, 400, 401, 403, 404, 405, 409, 412, 413, 415, 429, 500)
}
QUERIES = ", ".join(sorted(n for n, p in PROCEDURES.items() if p.kind == "query"))
MUTATIONS = ", ".join(sorted(n for n, p in PROCEDURES.items() if p.kind == "mutation"))


@router.get(
    "/trpc/{paths:path}",
    summary="tRPC query (original TypeScript CLI)",
    description=f"Input: `?input=<JSON>` (`?batch=1`: keyed by position). Queries: {QUERIES}.",
    responses=RESPONSES,
)
async def trpc_query(request: Request, paths: str) -> Response:
    return await _handle(request, paths)


@router.post(
    "/trpc/{paths:path}",
    summary="tRPC mutation (original TypeScript CLI)",
    description=f"Input: the JSON body (`?batch=1`: keyed by position). Mutations: {MUTATIONS}.",
    responses=RESPONSES,
)
async def trpc_mutation(request: Request, paths: str) -> Response:
    return await _handle(request, paths)
