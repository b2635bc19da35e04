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
from better_skills.server.principal import VAULT_WRITE
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


async def _call(ctx: Context, path: str, method: str, raw: Any, waits: list[int]) -> dict[str, Any]:
    """One call's envelope; the seconds a TOO_MANY_REQUESTS asks to wait go into ``waits``."""
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
        if proc.kind == "mutation" and not (await ctx.principal()).can(VAULT_WRITE):
            raise TrpcError("FORBIDDEN", "This token may only read; its scope lacks vault:write.")
        return success(await proc.handler(ctx, body))
    except TrpcError as exc:
        return failure(exc, path)
    except errors.OAuthError as exc:
        error = from_service_error(exc)
        if error.retry_after is not None:
            waits.append(error.retry_after)
        return failure(error, path)


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
    waits: list[int] = []
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
            await _call(ctx, n, request.method, i, waits)
            for n, i in zip(names, inputs, strict=True)
        ]
    statuses = {e["error"]["data"]["httpStatus"] if "error" in e else 200 for e in entries}
    status = statuses.pop() if len(statuses) == 1 else 207
    headers = {"Cache-Control": "no-store"}
    if waits:
        headers["Retry-After"] = str(max(1, max(waits)))
    return JSONResponse(entries if batched else entries[0], status_code=status, headers=headers)


@router.get("/trpc/{paths:path}", include_in_schema=False)
async def trpc_query(request: Request, paths: str) -> Response:
    return await _handle(request, paths)


@router.post("/trpc/{paths:path}", include_in_schema=False)
async def trpc_mutation(request: Request, paths: str) -> Response:
    return await _handle(request, paths)


# -- The OpenAPI document: one operation per procedure ---------------------------------------
#
# The two routes above serve every procedure; the document describes each one on its own path
# (GET for a query with ``?input=<JSON>``, POST for a mutation with a JSON body), its input
# schema generated from the same pydantic model ``_call`` validates with, so that schemathesis
# can fuzz them (tests/security/test_fuzz_vault.py). The wire is unchanged.

_SUCCESS = {
    "type": "object",
    "required": ["result"],
    "properties": {"result": {"type": "object", "required": ["data"], "properties": {"data": {}}}},
}
_FAILURE = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "code", "data"],
            "properties": {
                "message": {"type": "string"},
                "code": {"type": "integer"},
                "data": {
                    "type": "object",
                    "required": ["code", "httpStatus", "path"],
                    "properties": {
                        "code": {"type": "string"},
                        "httpStatus": {"type": "integer"},
                        "path": {"type": "string"},
                    },
                },
            },
        }
    },
}
_BATCH_NOTE = (
    ' With `?batch=1` the paths are comma-joined, inputs keyed by position (`{"0": …}`) and'
    " the answer is a list of envelopes (207 when they end differently)."
)
#: Every status a single call can end with; each error is the tRPC error envelope.
_ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 412, 413, 429)


def _responses() -> dict[str, Any]:
    out: dict[str, Any] = {
        "200": {
            "description": "Success envelope `{result: {data}}`",
            "content": {"application/json": {"schema": _SUCCESS}},
        }
    }
    for status in _ERROR_STATUSES:
        out[str(status)] = {
            "description": f"tRPC error envelope ({status})",
            "content": {"application/json": {"schema": _FAILURE}},
        }
    out["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return out


def document_procedures(document: dict[str, Any]) -> None:
    """Add ``/trpc/<name>`` for every procedure to an OpenAPI ``document``."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, proc in sorted(PROCEDURES.items()):
        operation: dict[str, Any] = {
            "tags": ["trpc"],
            "summary": f"tRPC {proc.kind} {name} (original TypeScript CLI)",
            "operationId": "trpc_" + name.replace(".", "_"),
            "responses": _responses(),
        }
        if proc.model is not None:
            model = proc.model.model_json_schema(ref_template="#/components/schemas/Trpc{model}")
            for sub, sub_schema in model.pop("$defs", {}).items():
                schemas[f"Trpc{sub}"] = sub_schema
            schemas[f"Trpc{proc.model.__name__}"] = model
            ref = {"$ref": f"#/components/schemas/Trpc{proc.model.__name__}"}
            required = bool(model.get("required"))
            if proc.kind == "query":
                operation["description"] = "Input: `?input=<JSON>`." + _BATCH_NOTE
                operation["parameters"] = [
                    {
                        "name": "input",
                        "in": "query",
                        "required": required,
                        "content": {"application/json": {"schema": ref}},
                    }
                ]
            else:
                operation["description"] = "Input: the JSON body." + _BATCH_NOTE
                operation["requestBody"] = {
                    "required": required,
                    "content": {"application/json": {"schema": ref}},
                }
        method = "get" if proc.kind == "query" else "post"
        document.setdefault("paths", {})[f"/trpc/{name}"] = {method: operation}
