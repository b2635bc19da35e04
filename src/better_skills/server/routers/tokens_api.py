"""Personal access tokens over ``/api/v1/tokens`` (shared/reference/api.md, "Personal access
tokens"): list, create (the secret is in this one answer), revoke."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.server.dependencies import caller, current_session, require_session, services
from better_skills.server.http import NO_STORE, json_no_store, parse_json, read_body
from better_skills.server.routers.openapi_bodies import ERROR, STRING, body
from better_skills.server.services.sessions import SessionView
from better_skills.server.services.tokens import MAX_DAYS, MIN_DAYS, TokenInfo
from better_skills.server.timefmt import iso_ms

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: ERROR,
    401: ERROR,
    403: ERROR,
    404: ERROR,
    413: ERROR,
    415: ERROR,
}
FIELDS = {"name", "expires_in_days"}


def token_json(token: TokenInfo) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": iso_ms(token.created_at),
        "expires_at": iso_ms(token.expires_at),
        "last_used_at": iso_ms(token.last_used_at) if token.last_used_at is not None else None,
    }


async def signed_in(request: Request) -> SessionView:
    """Any valid credential (session, device login, access token, or browser cookie); 401
    without one. Safe methods need no Origin."""
    view = await current_session(request)
    if view is None:
        raise errors.Unauthorized("Sign in first: send Authorization: Bearer <token>.")
    return view


async def read_json_object(request: Request) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise errors.UnsupportedMediaType("Send the body as application/json.")
    params = parse_json(await read_body(request))
    unknown = set(params) - FIELDS
    if unknown:
        raise errors.InvalidRequest(f"Unknown field {sorted(unknown)[0][:64]!r}.")
    return params


@router.get("", summary="The caller's access tokens (never their secret)", responses=ERRORS)
async def list_tokens(request: Request) -> Response:
    view = await signed_in(request)
    tokens = await services(request).tokens.list_for_user(view.user.id)
    return json_no_store({"items": [token_json(t) for t in tokens]})


@router.post(
    "",
    summary="Create a personal access token (needs a browser session); shown this once",
    status_code=201,
    openapi_extra=body(
        {
            "name": STRING,
            "expires_in_days": {"type": "integer", "minimum": MIN_DAYS, "maximum": MAX_DAYS},
        },
        ["name", "expires_in_days"],
        form=False,
    ),
    responses=ERRORS,
)
async def create_token(request: Request) -> Response:
    view = await require_session(request)  # a cookie needs our Origin
    params = await read_json_object(request)
    new = await services(request).tokens.create(
        view, params.get("name"), params.get("expires_in_days"), caller(request)
    )
    result = token_json(new)
    del result["last_used_at"]
    return json_no_store({**result, "token": new.token}, status_code=201)


@router.delete("/{token_id}", summary="Revoke a token", status_code=204, responses=ERRORS)
async def revoke_token(request: Request, token_id: str) -> Response:
    view = await require_session(request)
    try:
        canonical = str(uuid.UUID(token_id))
    except ValueError:
        canonical = None
    if canonical is None or not await services(request).tokens.revoke(
        view.user.id, canonical, caller(request)
    ):
        # Another person's token is "not found" too: existence is not revealed.
        raise errors.NotFound("No such token.")
    return Response(status_code=204, headers=NO_STORE)
