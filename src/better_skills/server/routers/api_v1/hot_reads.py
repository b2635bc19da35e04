"""The three hottest reads, answered below FastAPI's dependency machinery.

``GET /api/v1/skills``, ``GET /api/v1/skills/{id}`` and ``GET /api/v1/sync/manifest`` stay
declared as FastAPI routes (the OpenAPI document, and every request this module declines).
:func:`install` puts a :class:`HotRead` route for each in front of the router: it matches
only a GET whose query parameters are all plainly valid, resolves the caller with the same
:func:`~better_skills.server.dependencies.current_principal` and calls the **same endpoint
function** the FastAPI route calls, so the rules (auth, scopes, 404s, ETags) live in one
place. What it skips is FastAPI's route scan over every page, auth and ``/trpc`` route, and
its dependency solving and parameter validation per request (the profile's largest share
after the driver-direct reads, docs/performance.md).

Anything unusual is declined (``Match.NONE``) and reaches FastAPI exactly as before: other
methods (HEAD gets FastAPI's 405), a parameter FastAPI would refuse or coerce (``limit=0``,
``content=yes``, an over-long ``q``), and an app whose dependencies a test overrides.
Errors raised here go through the app's own exception handlers (``wrap_app_handling_exceptions``),
as a FastAPI route's do.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette._utils import get_route_path
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, compile_path
from starlette.types import Receive, Scope, Send

from better_skills.server.dependencies import current_principal
from better_skills.server.routers.api_v1 import skills, sync

#: A parsed query for an endpoint, or None: "let FastAPI validate this one".
Parser = Callable[[QueryParams], dict[str, Any] | None]
Answer = Callable[[Request, dict[str, Any]], Awaitable[Response]]

_LIMIT = re.compile(r"[1-9][0-9]?|100")
#: The spellings of a boolean query parameter taken here; pydantic takes more ("yes",
#: "on", "T", ...), and those go to FastAPI.
_BOOLS = {"0": False, "1": True, "false": False, "true": True}


class HotRead(BaseRoute):
    """A GET route FastAPI also declares, served without FastAPI's dependency machinery."""

    def __init__(
        self, path: str, parse: Parser, answer: Answer, *, exclude: frozenset[str] = frozenset()
    ) -> None:
        self.path = path
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.parse = parse
        self.answer = answer
        #: Paths an earlier route owns (``/api/v1/skills/search`` is no skill id).
        self.exclude = exclude
        #: Off: every request goes to the FastAPI route (the tests compare the two).
        self.enabled = True

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET" or not self.enabled:
            return Match.NONE, {}
        path = get_route_path(scope)
        found = self.path_regex.fullmatch(path)
        if found is None or path in self.exclude or scope["app"].dependency_overrides:
            return Match.NONE, {}
        query = self.parse(QueryParams(scope["query_string"]))
        if query is None:
            return Match.NONE, {}
        params = found.groupdict()
        return Match.FULL, {"path_params": params, "hot_read": {**params, **query}}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await self.answer(request, scope["hot_read"])
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(app, request)(scope, receive, send)


def _text(params: QueryParams, name: str, max_length: int) -> tuple[bool, str | None]:
    value = params.get(name)
    return (value is None or len(value) <= max_length), value


def _flag(params: QueryParams, name: str) -> bool | None:
    value = params.get(name)
    return False if value is None else _BOOLS.get(value)


def _list_query(params: QueryParams) -> dict[str, Any] | None:
    # The bounds of skills.list_skills's Query(...) declarations.
    ok_q, q = _text(params, "q", 200)
    ok_vault, vault = _text(params, "vault", 100)
    ok_cursor, cursor = _text(params, "cursor", 200)
    limit = params.get("limit")
    if not (ok_q and ok_vault and ok_cursor) or (limit is not None and not _LIMIT.fullmatch(limit)):
        return None
    return {"q": q, "vault": vault, "cursor": cursor, "limit": 20 if limit is None else int(limit)}


def _skill_query(params: QueryParams) -> dict[str, Any] | None:
    content = _flag(params, "content")
    return None if content is None else {"content": content}


def _manifest_query(params: QueryParams) -> dict[str, Any] | None:
    include_disabled = _flag(params, "include_disabled")
    return None if include_disabled is None else {"include_disabled": include_disabled}


async def _list(request: Request, query: dict[str, Any]) -> Response:
    return await skills.list_skills(
        await current_principal(request), request.app.state.services, **query
    )


async def _skill(request: Request, query: dict[str, Any]) -> Response:
    return await skills.get_skill(
        query["skill_id"],
        await current_principal(request),
        request.app.state.services,
        content=query["content"],
        if_none_match=request.headers.get("if-none-match"),
    )


async def _manifest(request: Request, query: dict[str, Any]) -> Response:
    return await sync.manifest(
        await current_principal(request),
        request.app.state.services,
        include_disabled=query["include_disabled"],
        if_none_match=request.headers.get("if-none-match"),
    )


HOT_READS = (
    ("/api/v1/skills", _list_query, _list, skills.list_skills),
    ("/api/v1/skills/{skill_id}", _skill_query, _skill, skills.get_skill),
    ("/api/v1/sync/manifest", _manifest_query, _manifest, sync.manifest),
)


def install(routes: list[BaseRoute]) -> list[HotRead]:
    """Put the hot reads in front of ``routes`` (the app's, every router included).

    A path the hot route would match but a route *before* its FastAPI route owns is left to
    that route (``/api/v1/skills/search``); an earlier route with parameters that could
    match too is refused here, at start-up, rather than shadowed.
    """
    made = []
    # In the order the router tries them (FastAPI nests included routers).
    flat = list(iter_route_contexts(routes))
    for path, parse, answer, endpoint in HOT_READS:
        target = next(
            i for i, r in enumerate(flat) if r.endpoint is endpoint and "GET" in (r.methods or ())
        )
        route = HotRead(path, parse, answer)
        probe = path.replace("{skill_id}", "0123abcd-probe")
        owned = set()
        for earlier in flat[:target]:
            if "GET" not in (earlier.methods or {"GET"}):
                continue  # a POST-only route never takes a GET
            other = earlier.path or ""
            if "{" not in other:
                if route.path_regex.fullmatch(other):
                    owned.add(other)
            elif (regex := getattr(earlier, "path_regex", None)) is None or regex.match(probe):
                raise RuntimeError(f"{other} would be shadowed by the hot read {path}")
        route.exclude = frozenset(owned)
        made.append(route)
    routes[:0] = made
    return made
