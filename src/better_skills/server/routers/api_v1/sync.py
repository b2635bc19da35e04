"""``/api/v1/sync``: the manifest (ETag, 304) and bundles of files ready to install."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from better_skills.server.routers.api_v1._common import (
    AppServices,
    CurrentPrincipal,
    encode_json,
    errors_for,
    json_response,
    not_modified,
    raw_json_response,
)
from better_skills.server.schemas import (
    BundleFile,
    BundleItemOut,
    BundleOut,
    BundleRequest,
    ManifestOut,
    manifest_item_json,
)
from better_skills.server.services import to_ms
from better_skills.server.timefmt import iso_ms

router = APIRouter(tags=["sync"])


@router.get(
    "/sync/manifest",
    summary="Every skill the caller syncs (enabled vaults), with an ETag",
    response_model=ManifestOut,
    responses={**errors_for(), 304: {"description": "If-None-Match names the current ETag"}},
)
async def manifest(
    principal: CurrentPrincipal,
    svc: AppServices,
    include_disabled: Annotated[bool, Query(description="1: disabled vaults too")] = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    user = principal.user_id
    # Answered from the memberships alone: no skill row is read for a 304.
    etag = await svc.skills.manifest_etag(user, include_disabled=include_disabled)
    if if_none_match is not None and any(
        tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(",")
    ):
        return not_modified(etag)
    cache = _caches.setdefault(svc.skills, ManifestCache())
    items = cache.get(user, include_disabled, etag)
    if items is None:
        found = await svc.skills.manifest(user, include_disabled=include_disabled)
        etag = found.etag
        # The shape of ManifestOut's items, built as plain data: a model per item cost more
        # CPU than reading the 1,000 rows (see schemas.summary_json).
        items = encode_json([manifest_item_json(i) for i in found.items])
        cache.put(user, include_disabled, etag, items)
    stamp = iso_ms(to_ms(svc.clock()))
    body = b'{"items":' + items + b',"generated_at":"' + stamp.encode() + b'"}'
    return raw_json_response(body, etag=etag)


class ManifestCache:
    """The encoded items of recent manifests, by caller, under the ETag they were read with.

    The ETag is the validator every client already trusts for a 304: it changes with every
    skill write and every change of the caller's memberships (``manifest_etag``). So a
    stored answer under the current ETag is the answer; a caller whose ETag moved on reads
    the rows again. Bounded by bytes (least recently used first out); one per process.
    """

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, bool], tuple[str, bytes]] = OrderedDict()
        self._bytes = 0

    def get(self, user_id: str, include_disabled: bool, etag: str) -> bytes | None:
        key = (user_id, include_disabled)
        found = self._entries.get(key)
        if found is None or found[0] != etag:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, user_id: str, include_disabled: bool, etag: str, items: bytes) -> None:
        key = (user_id, include_disabled)
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        if len(items) > self.max_bytes // 4:
            return  # one huge manifest must not push every other out
        self._entries[key] = (etag, items)
        self._bytes += len(items)
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._bytes -= len(dropped)


_caches: WeakKeyDictionary[Any, ManifestCache] = WeakKeyDictionary()


@router.post(
    "/sync/bundle",
    summary="Files ready to install (mentions rendered as relative links), at most 200 skills",
    response_model=BundleOut,
    responses=errors_for(413, 415),
)
async def bundle(body: BundleRequest, principal: CurrentPrincipal, svc: AppServices) -> Response:
    items = await svc.skills.bundle(principal.user_id, body.ids)
    return json_response(
        BundleOut(
            items=[
                BundleItemOut(
                    id=i.id,
                    content_hash=i.content_hash,
                    files=[BundleFile.of(path, data) for path, data in i.files],
                )
                for i in items
            ]
        ),
        exclude_unset=True,
    )
