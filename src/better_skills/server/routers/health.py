"""Health and discovery: ``/api/health`` and RFC 8414 authorization server metadata."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from sqlalchemy import literal_column, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from better_skills import __version__
from better_skills.protocol.device_flow import DEFAULT_SCOPE, DEVICE_CODE_GRANT_TYPE, Paths
from better_skills.server.db import Database
from better_skills.server.dependencies import services
from better_skills.server.direct import PostgresDirect

router = APIRouter(tags=["health"])
HEALTH_TIMEOUT = 2.0


#: The statement the driver-direct connections are pinged with.
SELECT_ONE = select(literal_column("1"))


async def ping_everything(db: Database) -> None:
    """One statement through every way the server reaches the database: the engine (pages,
    most of /api/v1), and the driver-direct connections the hot paths use (sessions, device
    flow, rate limits): on PostgreSQL both of its pools, the durable one and the one with
    ``synchronous_commit=off``. On SQLite the read connection: its writer is behind the
    write lock, which a health check must not queue on."""
    await db.ping()
    direct = db.direct
    await direct.fetch_first(SELECT_ONE, {})
    if isinstance(direct, PostgresDirect):
        await direct.statement(SELECT_ONE, {}, durable=False)


async def database_ok(request: Request) -> bool:
    try:
        await asyncio.wait_for(ping_everything(services(request).db), HEALTH_TIMEOUT)
    except Exception:  # any failure to reach the database means "unavailable"
        return False
    return True


@router.get(
    Paths.HEALTH,
    summary="Server and database health",
    responses={503: {"description": 'The database is unavailable ("database": "unavailable")'}},
)
async def health(request: Request) -> Response:
    ok = await database_ok(request)
    return JSONResponse(
        {
            "status": "ok" if ok else "error",
            "version": __version__,
            "database": "ok" if ok else "unavailable",
        },
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )


@router.get(Paths.OAUTH_METADATA, summary="OAuth 2.0 authorization server metadata (RFC 8414)")
async def oauth_metadata(request: Request) -> Response:
    base = services(request).settings.public_url
    return JSONResponse(
        {
            "issuer": base,
            "device_authorization_endpoint": base + Paths.DEVICE_CODE,
            "token_endpoint": base + Paths.DEVICE_TOKEN,
            "grant_types_supported": [DEVICE_CODE_GRANT_TYPE],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": DEFAULT_SCOPE.split(),
            "service_documentation": base + "/",
        }
    )
