"""Builds the ASGI application: routers, static files, error handling, security headers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from better_skills import __version__
from better_skills.protocol import errors
from better_skills.server.assets import STATIC_DIR
from better_skills.server.body_limit import ApiBodyLimit, body_cap
from better_skills.server.db import migrate
from better_skills.server.http import error_response
from better_skills.server.routers import (
    api_v1,
    auth_api,
    health,
    pages,
    search_api,
    tokens_api,
    trpc,
)
from better_skills.server.routers import errors as error_pages
from better_skills.server.routers.api_v1 import hot_reads
from better_skills.server.security import (
    PRODUCTION_HASH_COST,
    TEST_HASH_COST_ENV,
    HashCost,
    hash_cost_from_environment,
)
from better_skills.server.services import Clock, system_clock
from better_skills.server.services.accounts import AccountError
from better_skills.server.services.container import Services
from better_skills.server.services.default_skills import seed_default_skills
from better_skills.server.settings import MIGRATED_ENV, Settings, load_settings

log = logging.getLogger("better_skills.server")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the headers above to every response (pure ASGI: no per-request task or copy)."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.headers = list(SECURITY_HEADERS)
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: FastAPI's native telemetry, all of it off (see ``Settings.opentelemetry``).
TELEMETRY_OFF: Any = {"tracing": False, "metrics": False, "logs": False}
#: Where an OSError of the database comes from: the drivers and SQLAlchemy's pools, and the
#: server's driver-direct layer (its ConnectionError: a lost connection, a busy SQLite).
DRIVER_PACKAGES = frozenset({"asyncpg", "sqlalchemy", "aiosqlite"})
#: ``direct`` is a package: its modules (core, engine, sqlite, postgres) all count.
DIRECT_PACKAGE = "better_skills.server.direct"


def raised_by_database(exc: BaseException) -> bool:
    """Whether ``exc`` was raised in, or passed through, a driver or ``direct``.

    A connection refused, reset or timed out, an unreachable host or a failed name lookup
    of the database reach the handlers as a bare OSError (asyncpg's connect does not wrap
    them, nor does SQLAlchemy); a missing file or a full disk elsewhere are OSErrors too,
    and must not be reported as a database outage."""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if (
            module == DIRECT_PACKAGE
            or module.startswith(DIRECT_PACKAGE + ".")
            or module.partition(".")[0] in DRIVER_PACKAGES
        ):
            return True
        tb = tb.tb_next
    return False


def _install_error_handlers(app: FastAPI) -> None:
    async def oauth_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.OAuthError)
        return error_response(exc)

    async def account_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AccountError)
        # better-auth's {"code", "message"} plus the RFC 6749 pair, so either kind of client
        # can read it.
        return JSONResponse(
            {
                "code": exc.code,
                "message": exc.message,
                "error": "invalid_request" if exc.status_code != 401 else "invalid_grant",
                "error_description": exc.message,
            },
            status_code=exc.status_code,
            headers={"Cache-Control": "no-store"},
        )

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        cls = {404: errors.NotFound, 405: errors.MethodNotAllowed}.get(exc.status_code)
        error = (
            cls() if cls else errors.InvalidRequest(str(exc.detail), status_code=exc.status_code)
        )
        return error_response(error)

    async def validation_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [
            {
                "path": ".".join(str(part) for part in error.get("loc", ()))[:200],
                "message": str(error.get("msg", ""))[:200],
            }
            for error in exc.errors()[:20]
        ]
        return error_response(
            errors.InvalidRequest("A parameter has the wrong type or form.", details=details)
        )

    async def database_error(request: Request, exc: Exception) -> Response:
        # Lost connections and timeouts are outages (503, try again); anything else the
        # database refuses is our bug (500), and so is an OSError from anywhere else (a
        # missing file, a full disk under a temporary file): not a database outage.
        if isinstance(exc, DBAPIError) and not (
            exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
        ):
            return await unexpected(request, exc)
        if isinstance(exc, OSError) and not raised_by_database(exc):
            return await unexpected(request, exc)
        # Timeouts carry no message: str(exc) is "" (indexing its first line raised, a 500).
        first_line = next(iter(str(exc).splitlines()), "")
        log.warning("database unavailable: %s: %s", type(exc).__name__, first_line)
        return error_response(errors.ServiceUnavailable(retry_after=5))

    async def client_gone(_request: Request, _exc: Exception) -> Response:
        # The client closed the connection (or was cut off by a read timeout) before its
        # body was complete: nothing went wrong here, and nobody reads this answer.
        log.debug("client disconnected before sending the whole request body")
        return Response(status_code=400)

    async def unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error")
        return JSONResponse(
            {"error": "server_error", "error_description": "Internal error."}, status_code=500
        )

    # Browsers asking for a page get these errors as pages; programs keep JSON.
    page = error_pages.for_browsers
    app.add_exception_handler(errors.OAuthError, page(oauth_error))
    app.add_exception_handler(AccountError, page(account_error))
    app.add_exception_handler(HTTPException, page(http_error))
    app.add_exception_handler(RequestValidationError, page(validation_error))
    app.add_exception_handler(ClientDisconnect, client_gone)
    # OSError: the drivers' own (a refused or reset connection, a timeout, an unreachable
    # host) and direct's ConnectionError; database_error sends the others on to unexpected.
    for exc_type in (DBAPIError, PoolTimeout, OSError):
        app.add_exception_handler(exc_type, page(database_error))
    app.add_exception_handler(Exception, page(unexpected))


def _tune_gc() -> None:
    """Fewer, cheaper garbage collections while serving.

    With Python's default thresholds (700 container allocations) a busy worker ran a
    collection every few requests, and the oldest generation walked every object the
    imports had made: measured, that cost 15 % of throughput and doubled the 99th percentile
    latency. Objects alive after start-up are frozen out of collection; a young generation
    of 20,000 still collects request garbage (exception tracebacks form cycles) promptly.
    Once per process: a process that starts several apps (the tests) would otherwise collect
    and freeze again at each start.
    """
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


async def _sweep_forever(services: Services) -> None:
    """Delete expired rows now and then, so tables stay the size of what is live."""
    while True:
        try:
            removed = await services.device_flow.sweep()
            if any(removed.values()):
                log.debug("swept %s", removed)
        except Exception as exc:  # the database may be down for a while; try again later
            # The type at every level (an outage repeats it each interval); the traceback
            # at LOG_LEVEL=debug, where a sweep that fails for a bug can be told apart.
            debug = log.isEnabledFor(logging.DEBUG)
            log.warning("sweep failed: %s", type(exc).__name__, exc_info=debug)
        await asyncio.sleep(services.settings.sweep_interval)


async def _ensure_vault_defaults(services: Services) -> bool:
    """The system vault, its members and the default skills (idempotent, so every worker may
    run it). False when the database is unavailable: the server still starts and answers 503
    until it is back."""
    try:
        await services.vaults.ensure_defaults()
        await seed_default_skills(services)
    except (DBAPIError, PoolTimeout, OSError) as exc:
        if isinstance(exc, OSError) and not raised_by_database(exc):
            raise  # e.g. a default skill's file missing: a broken install, not an outage
        log.warning("vault defaults not ensured yet: %s", type(exc).__name__)
        return False
    return True


async def _ensure_vault_defaults_later(services: Services) -> None:
    """Retry :func:`_ensure_vault_defaults` until the database lets it through."""
    while True:
        await asyncio.sleep(min(services.settings.sweep_interval, 30))
        if await _ensure_vault_defaults(services):
            return


def _document_trpc(app: FastAPI) -> None:
    """The OpenAPI document gets one operation per ``/trpc`` procedure (see routers/trpc.py)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            trpc.document_procedures(generate())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    clock: Clock = system_clock,
    hash_cost: HashCost | None = None,
) -> FastAPI:
    """The application; with no arguments it reads settings from the environment. Tests
    inject a fake ``clock`` and a cheap password ``hash_cost`` (the server processes they
    start get it from the environment: security.hash_cost_from_environment)."""
    settings = settings or load_settings()
    if hash_cost is None:
        hash_cost = hash_cost_from_environment()
        if hash_cost != PRODUCTION_HASH_COST:  # never silent: it weakens stored passwords
            log.warning("password hashing at a test cost (%s is set)", TEST_HASH_COST_ENV)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.build(settings, clock, hash_cost)
        if not os.environ.get(MIGRATED_ENV):
            await migrate(services.db.engine)
        app.state.services = services
        tasks = [asyncio.create_task(_sweep_forever(services))]
        if not await _ensure_vault_defaults(services):
            tasks.append(asyncio.create_task(_ensure_vault_defaults_later(services)))
        _tune_gc()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.db.dispose()

    app = FastAPI(
        title="better-skills auth server",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        # Off unless OPENTELEMETRY=on: FastAPI asks the OpenTelemetry API on every request
        # whether a provider is configured (18 µs, 2 to 3 % of a list page).
        telemetry=None if settings.opentelemetry else TELEMETRY_OFF,
    )
    app.include_router(search_api.router)  # before /api/v1/skills/{id}: "search" is no id
    app.include_router(auth_api.router)
    app.include_router(api_v1.router)
    app.include_router(health.router)
    app.include_router(trpc.router)
    app.include_router(pages.router)
    app.include_router(tokens_api.router)
    app.include_router(error_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # The hottest reads in front of every route, below FastAPI's dependency machinery.
    hot_reads.install(app.router.routes)
    _document_trpc(app)
    _install_error_handlers(app)
    app.add_middleware(
        ApiBodyLimit, cap=body_cap(settings.max_skill_bytes, settings.max_skill_files)
    )
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    return app
