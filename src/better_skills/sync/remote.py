"""The two sync endpoints of the server, behind a small protocol the planner and executor never
see: ``GET /api/v1/sync/manifest`` (with ``ETag`` / ``If-None-Match``) and
``POST /api/v1/sync/bundle``.

The HTTP adapter follows the auth client's rules: timeouts, no redirects (the token goes only to
the configured server), capped bodies, and the error classes the CLI maps to exit codes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from better_skills.client.errors import (
    NotAuthenticated,
    ServerError,
    ServerUnreachable,
    UnexpectedResponse,
)
from better_skills.sync.apply import Bundle
from better_skills.sync.model import ManifestItem

__all__ = ["HttpRemote", "Manifest", "Remote", "parse_manifest"]

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_BUNDLE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Manifest:
    items: tuple[ManifestItem, ...]
    etag: str | None
    raw: dict[str, Any]


class Remote(Protocol):
    requests: int

    def manifest(self, *, include_disabled: bool, etag: str | None) -> Manifest | None:
        """The manifest, or ``None`` when the server answers 304 to ``etag``."""

    def bundle(self, ids: Sequence[str]) -> Mapping[str, Bundle]: ...


def parse_manifest(data: Any, etag: str | None = None) -> Manifest:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise UnexpectedResponse("The server's sync manifest has an unexpected shape.")
    items = []
    for raw in data["items"]:
        try:
            vault = raw["vault"]
            items.append(
                ManifestItem(
                    id=str(raw["id"]),
                    vault={k: vault.get(k) for k in ("id", "slug", "name", "type")},
                    slug=str(raw["slug"]),
                    name=str(raw.get("name") or raw["slug"]),
                    description=str(raw.get("description") or ""),
                    content_hash=str(raw["content_hash"]),
                    updated_at=str(raw.get("updated_at") or ""),
                )
            )
        except (KeyError, TypeError, AttributeError):
            raise UnexpectedResponse(
                "The server's sync manifest has an item without id, vault, slug or content_hash."
            ) from None
    return Manifest(tuple(items), etag, data)


class HttpRemote:
    """The sync endpoints over httpx; counts the requests it makes (for the benchmark)."""

    def __init__(self, base_url: str, token: str, *, transport: Any = None) -> None:
        from better_skills import __version__
        from better_skills.client._httpx import httpx

        self._httpx = httpx
        self.base_url = base_url.rstrip("/")
        self.requests = 0
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(60.0, connect=5.0),
            follow_redirects=False,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": f"better-skills-cli/{__version__} (sync)",
            },
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpRemote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, *, cap: int, **kwargs: Any) -> tuple[int, Any, Any]:
        httpx = self._httpx
        self.requests += 1
        try:
            request = self._http.build_request(method, self.base_url + path, **kwargs)
            response = self._http.send(request, stream=True)
            try:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise UnexpectedResponse(f"The server's answer to {path} is too large.")
                    chunks.append(chunk)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise ServerUnreachable(self.base_url, "no answer in time") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.base_url, str(exc) or type(exc).__name__) from None
        status = response.status_code
        body = b"".join(chunks)
        if status == 304:
            return status, None, response.headers
        if status == 401:
            raise NotAuthenticated(f"the server at {self.base_url} does not accept the session")
        if status == 404 and path.startswith("/api/v1/sync"):
            raise UnexpectedResponse(
                f"The server at {self.base_url} has no sync endpoint ({path}).",
                hints=("Check that SERVER_URL points at a better-skills server.",),
            )
        if status >= 400:
            detail = ""
            try:
                data = json.loads(body)
                if isinstance(data, dict) and isinstance(data.get("error_description"), str):
                    detail = ": " + data["error_description"][:300]
            except ValueError:
                pass
            raise ServerError(
                f"The server at {self.base_url} answered HTTP {status} to {path}{detail}.",
                status_code=status,
            )
        try:
            return status, json.loads(body), response.headers
        except ValueError:
            raise UnexpectedResponse(
                f"The server at {self.base_url} answered {path} with something that is not JSON."
            ) from None

    def manifest(self, *, include_disabled: bool, etag: str | None) -> Manifest | None:
        path = "/api/v1/sync/manifest" + ("?include_disabled=1" if include_disabled else "")
        headers = {"If-None-Match": etag} if etag else {}
        status, data, response_headers = self._send(
            "GET", path, cap=MAX_MANIFEST_BYTES, headers=headers
        )
        if status == 304:
            return None
        return parse_manifest(data, response_headers.get("ETag"))

    def bundle(self, ids: Sequence[str]) -> Mapping[str, Bundle]:
        if not ids:
            return {}
        _, data, _ = self._send(
            "POST", "/api/v1/sync/bundle", cap=MAX_BUNDLE_BYTES, json={"ids": list(ids)}
        )
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise UnexpectedResponse("The server's sync bundle has an unexpected shape.")
        bundles = {}
        for raw in data["items"]:
            try:
                bundle = Bundle.from_json(raw)
            except (ValueError, TypeError, AttributeError) as exc:
                raise UnexpectedResponse(f"The server sent a broken sync bundle ({exc}).") from None
            bundles[bundle.id] = bundle
        return bundles
