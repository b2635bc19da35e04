"""The two sync endpoints of the server, behind a small protocol the planner and executor never
see: ``GET /api/v1/sync/manifest`` (with ``ETag`` / ``If-None-Match``) and
``POST /api/v1/sync/bundle``.

The HTTP adapter is built on the CLI's ``ApiClient``: total deadlines, no redirects, the token
only for the server that issued it, capped bodies, and the error classes the CLI maps to exit
codes (401 → not authenticated, exit 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from better_skills.client.errors import UnexpectedResponse
from better_skills.sync.bundle import Bundle
from better_skills.sync.model import ManifestItem

if TYPE_CHECKING:
    from better_skills.client._transport import ApiClient

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
    """The sync endpoints over the CLI's :class:`ApiClient` (its credential, deadlines, caps and
    error mapping); counts the requests it makes (for the benchmark and the no-op test)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.requests = 0

    def __enter__(self) -> HttpRemote:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def manifest(self, *, include_disabled: bool, etag: str | None) -> Manifest | None:
        from better_skills.client._transport import Timeout

        self.requests += 1
        response = self.api.send(
            "GET",
            "/api/v1/sync/manifest",
            params={"include_disabled": "1"} if include_disabled else None,
            headers={"If-None-Match": etag} if etag else None,
            auth=True,
            timeout=Timeout(total=60.0, connect=5.0),
            max_bytes=MAX_MANIFEST_BYTES,
        )
        if response.status_code == 304:
            return None
        if response.status_code != 200:
            self.api.raise_for_error(response)
        return parse_manifest(self.api.json(response), response.headers.get("ETag"))

    def bundle(self, ids: Sequence[str]) -> Mapping[str, Bundle]:
        from better_skills.client._transport import Timeout

        if not ids:
            return {}
        self.requests += 1
        data = self.api.request_json(
            "POST",
            "/api/v1/sync/bundle",
            json_body={"ids": list(ids)},
            auth=True,
            timeout=Timeout(total=300.0, connect=5.0),
            max_bytes=MAX_BUNDLE_BYTES,
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
