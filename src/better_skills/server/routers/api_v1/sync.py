"""``/api/v1/sync``: the manifest (ETag, 304) and bundles of files ready to install."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from better_skills.server.routers.api_v1._common import (
    AppServices,
    CurrentPrincipal,
    errors_for,
    json_response,
    not_modified,
)
from better_skills.server.schemas import (
    BundleFile,
    BundleItemOut,
    BundleOut,
    BundleRequest,
    ManifestItemOut,
    ManifestOut,
    VaultRefOut,
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
    if if_none_match is not None:
        # Answered from the memberships alone: no skill row is read for a 304.
        etag = await svc.skills.manifest_etag(principal.user_id, include_disabled=include_disabled)
        if any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(",")):
            return not_modified(etag)
    found = await svc.skills.manifest(principal.user_id, include_disabled=include_disabled)
    body = ManifestOut(
        items=[
            ManifestItemOut(
                id=i.id,
                vault=VaultRefOut.from_record(i.vault),
                slug=i.slug,
                name=i.name,
                description=i.description,
                content_hash=i.content_hash,
                updated_at=iso_ms(i.updated_at),
            )
            for i in found.items
        ],
        generated_at=iso_ms(to_ms(svc.clock())),
    )
    return json_response(body, etag=found.etag)


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
