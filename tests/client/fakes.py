"""Test doubles for the client layer: a clock from :data:`START` and a scripted auth server.

The server speaks the parts of ``protocol.md`` the CLI uses, through ``httpx.MockTransport``,
so client and command tests need no network and no real sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from better_skills.client._transport import ApiClient
from better_skills.client.api import AuthClient
from better_skills.client.credentials import Credential
from better_skills.protocol.device_flow import CLIENT_ID, DEVICE_CODE_GRANT_TYPE, Paths
from tests.support.clock import FakeClock

BASE_URL = "http://testserver"
START = datetime(2024, 3, 15, 10, 30, tzinfo=UTC)


def fake_clock() -> FakeClock:
    """The client tests' clock: wall time from :data:`START`, moving only on ``sleep``."""
    return FakeClock(START.timestamp())


def oauth_error(code: str, status: int = 400, description: str = "") -> httpx.Response:
    body = {"error": code, "error_description": description or code}
    return httpx.Response(status, json=body, headers={"Cache-Control": "no-store"})


#: A token-endpoint step: a response, an exception to raise, or a shorthand name.
Step = httpx.Response | Exception | str


@dataclass
class FakeAuthServer:
    """In-memory server. ``token_steps`` scripts the answers of ``/device/token`` in order."""

    interval: float | None = 5
    expires_in: float | None = 1800
    user_code: str = "BCDFGHJK"
    verification_uri: str = f"{BASE_URL}/device"
    verification_uri_complete: str | None = f"{BASE_URL}/device?user_code=BCDFGHJK"
    token_steps: list[Step] = field(default_factory=list)
    user: dict[str, Any] = field(
        default_factory=lambda: {"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com"}
    )
    session_created: str = "2024-03-15T10:30:00.000Z"
    session_expires: str = "2024-03-15T18:30:00.000Z"
    valid_tokens: set[str] = field(default_factory=set)
    health: httpx.Response | Exception | None = None
    sign_out_response: httpx.Response | Exception | None = None
    device_code_response: httpx.Response | Exception | None = None
    get_session_response: httpx.Response | Exception | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    #: Answer invalid_request to unknown fields, as a server without ``hostname`` support does.
    refuse_unknown_fields: bool = False
    issued: int = 0
    tokens_issued: int = 0

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self, clock: FakeClock | None = None) -> AuthClient:
        return AuthClient(
            ApiClient(BASE_URL, transport=self.transport, clock=clock or fake_clock())
        )

    def factory(self, clock: FakeClock) -> Callable[[str, Credential | None], ApiClient]:
        """An ``ApiFactory`` for ``Deps``: every client talks to this fake server."""

        def make(base_url: str, credential: Credential | None) -> ApiClient:
            return ApiClient(base_url, credential=credential, transport=self.transport, clock=clock)

        return make

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == Paths.DEVICE_CODE:
            return self._device_code(request)
        if path == Paths.DEVICE_TOKEN:
            return self._token(request)
        if path == Paths.GET_SESSION:
            if isinstance(self.get_session_response, Exception):
                raise self.get_session_response
            if self.get_session_response is not None:
                return self.get_session_response
            token = self._bearer(request)
            if token not in self.valid_tokens:
                return httpx.Response(200, content=b"null")
            return httpx.Response(
                200,
                json={
                    "session": {
                        "id": "s1",
                        "userId": self.user["id"],
                        "createdAt": self.session_created,
                        "expiresAt": self.session_expires,
                    },
                    "user": self.user,
                },
            )
        if path == Paths.SIGN_OUT:
            if isinstance(self.sign_out_response, Exception):
                raise self.sign_out_response
            if self.sign_out_response is not None:
                return self.sign_out_response
            token = self._bearer(request) or ""
            ended = token in self.valid_tokens
            self.valid_tokens.discard(token)
            # As our server answers (issue 15 item 2): better-auth's field plus ours.
            return httpx.Response(200, json={"success": True, "signed_out": ended})
        if path == Paths.HEALTH:
            if isinstance(self.health, Exception):
                raise self.health
            return self.health or httpx.Response(
                200, json={"status": "ok", "version": "9.9.9", "database": "ok"}
            )
        return httpx.Response(404, text="<h1>Not found</h1>")

    def _device_code(self, request: httpx.Request) -> httpx.Response:
        if isinstance(self.device_code_response, Exception):
            raise self.device_code_response
        if self.device_code_response is not None:
            return self.device_code_response
        body = json.loads(request.content)
        if body.get("client_id") != CLIENT_ID:
            return oauth_error("invalid_client")
        if self.refuse_unknown_fields and set(body) - {"client_id", "scope"}:
            return oauth_error("invalid_request", description="Unknown field: hostname.")
        self.issued += 1
        answer: dict[str, Any] = {
            "device_code": f"device-code-{self.issued}",
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
        }
        if self.verification_uri_complete is not None:
            answer["verification_uri_complete"] = self.verification_uri_complete
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        if self.interval is not None:
            answer["interval"] = self.interval
        return httpx.Response(200, json=answer)

    def _token(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["grant_type"] == DEVICE_CODE_GRANT_TYPE
        assert body["client_id"] == CLIENT_ID
        step = self.token_steps.pop(0) if self.token_steps else "pending"
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        if step == "token":
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return httpx.Response(
                200,
                json={
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": 28800,
                    "scope": "openid profile email",
                },
            )
        codes = {
            "pending": "authorization_pending",
            "slow_down": "slow_down",
            "denied": "access_denied",
            "expired": "expired_token",
            "invalid_grant": "invalid_grant",
        }
        return oauth_error(codes[step])

    @staticmethod
    def _bearer(request: httpx.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" else None
