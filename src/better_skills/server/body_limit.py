"""Refuses oversized or non-JSON /api/v1 request bodies before the application reads them.

FastAPI reads a declared body whole before any dependency runs, so the cap has to sit in
front of it: a declared ``Content-Length`` above the cap is answered at once, and a body sent
without one is counted as it arrives and refused as soon as it passes the cap.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from better_skills.protocol import errors
from better_skills.server.http import error_response

API_PREFIX = "/api/v1/"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def body_cap(max_skill_bytes: int, max_files: int) -> int:
    """The largest /api/v1 body: a skill at its size limit, sent as JSON. Text may double
    when escaped (base64 grows by a third), plus room for every file's path and keys."""
    return 2 * max_skill_bytes + max_files * 1024 + 64 * 1024


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class ApiBodyLimit:
    def __init__(self, app: ASGIApp, cap: int) -> None:
        self.app = app
        self.cap = cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in BODY_METHODS
            or not scope["path"].startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.cap:
            await error_response(errors.ContentTooLarge())(scope, receive, send)
            return
        if declared != b"0" and not _is_json(headers.get(b"content-type", b"").decode("latin-1")):
            await error_response(errors.UnsupportedContentType())(scope, receive, send)
            return
        # Read (at most the cap) here, then hand the body on in one piece.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.cap:
                await error_response(errors.ContentTooLarge())(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
