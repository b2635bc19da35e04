"""``/api/v1`` shares: create one of a skill, list one's own, read one (public), its bundle
(public, the sync bundle's shape), import one into the personal vault, revoke one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from better_skills.protocol.shares import SHARE_PAGE
from better_skills.server.dependencies import caller, services
from better_skills.server.routers.api_v1._common import (
    AppServices,
    CurrentPrincipal,
    WritePrincipal,
    errors_for,
    json_response,
)
from better_skills.server.schemas import BundleFile, FileKind
from better_skills.server.services.shares import ImportResult, Share
from better_skills.server.timefmt import iso_ms

router = APIRouter(tags=["shares"])


# -- Shapes ----------------------------------------------------------------------------------


class ShareFileOut(BaseModel):
    path: str
    kind: FileKind
    size: int


class ShareSkillOut(BaseModel):
    id: str
    slug: str
    name: str
    description: str
    files: list[ShareFileOut]


class ShareSummaryOut(BaseModel):
    id: str
    url: str
    skill_id: str | None
    slug: str
    name: str
    description: str
    skill_count: int
    file_count: int
    size: int
    created_at: str

    @classmethod
    def of(cls, share: Share, public_url: str) -> ShareSummaryOut:
        return cls(
            id=share.id,
            url=share_url(public_url, share.id),
            skill_id=share.skill_id,
            slug=share.slug,
            name=share.name,
            description=share.description,
            skill_count=share.skill_count,
            file_count=share.file_count,
            size=share.size,
            created_at=iso_ms(share.created_at),
        )


class ShareList(BaseModel):
    items: list[ShareSummaryOut]


class ShareOut(BaseModel):
    """The public view: no creator, no source skill id."""

    id: str
    url: str
    name: str
    slug: str
    description: str
    created_at: str
    root_skill_id: str
    skills: list[ShareSkillOut]

    @classmethod
    def of(cls, share: Share, public_url: str) -> ShareOut:
        return cls(
            id=share.id,
            url=share_url(public_url, share.id),
            name=share.name,
            slug=share.slug,
            description=share.description,
            created_at=iso_ms(share.created_at),
            root_skill_id=share.root.id,
            skills=[
                ShareSkillOut(
                    id=s.id,
                    slug=s.slug,
                    name=s.name,
                    description=s.description,
                    files=[
                        ShareFileOut(path=f.path, kind=f.kind, size=len(f.content))  # type: ignore[arg-type]
                        for f in s.files
                    ],
                )
                for s in share.skills
            ],
        )


class ShareBundleItem(BaseModel):
    """A sync bundle item (id, content_hash, files) plus what installing it needs."""

    id: str
    content_hash: str
    files: list[BundleFile]
    slug: str
    name: str
    description: str


class ShareBundleOut(BaseModel):
    share_id: str
    created_at: str
    root_skill_id: str
    items: list[ShareBundleItem]


class ImportedSkillOut(BaseModel):
    id: str
    slug: str
    name: str


class ImportOut(BaseModel):
    root_skill_id: str
    skills: list[ImportedSkillOut]
    imported_skills: int
    imported_files: int
    imported_links: int

    @classmethod
    def of(cls, result: ImportResult) -> ImportOut:
        return cls(
            root_skill_id=result.root_skill_id,
            skills=[ImportedSkillOut(id=s.id, slug=s.slug, name=s.name) for s in result.skills],
            imported_skills=len(result.skills),
            imported_files=result.files,
            imported_links=result.links,
        )


def share_url(public_url: str, share_id: str) -> str:
    return public_url.rstrip("/") + SHARE_PAGE.format(share_id=share_id)


# -- Endpoints -------------------------------------------------------------------------------


@router.post(
    "/skills/{skill_id}/shares",
    status_code=201,
    summary="Share a skill: a frozen snapshot of it and the skills it mentions",
    response_model=ShareOut,
    responses=errors_for(413),
)
async def create_share(
    skill_id: str, request: Request, principal: WritePrincipal, svc: AppServices
) -> Response:
    share = await svc.shares.create(principal.user_id, skill_id, ip=caller(request).ip)
    return json_response(ShareOut.of(share, svc.settings.public_url), 201)


@router.get(
    "/shares",
    summary="The caller's shares that are not revoked, newest first",
    response_model=ShareList,
    responses=errors_for(),
)
async def list_shares(principal: CurrentPrincipal, svc: AppServices) -> Response:
    shares = await svc.shares.list_mine(principal.user_id)
    public_url = svc.settings.public_url
    return json_response(ShareList(items=[ShareSummaryOut.of(s, public_url) for s in shares]))


@router.get(
    "/shares/{share_id}",
    summary="A share's skills and files (public: the id is the secret)",
    response_model=ShareOut,
    responses={404: errors_for()[404]},
)
async def get_share(share_id: str, request: Request) -> Response:
    svc = services(request)
    share = await svc.shares.get(share_id)
    return json_response(ShareOut.of(share, svc.settings.public_url))


@router.get(
    "/shares/{share_id}/bundle",
    summary="A share's files ready to install (public; the sync bundle's shape)",
    response_model=ShareBundleOut,
    responses={404: errors_for()[404]},
)
async def share_bundle(share_id: str, request: Request) -> Response:
    share, items = await services(request).shares.bundle(share_id)
    skills = {s.id: s for s in share.skills}
    body = ShareBundleOut(
        share_id=share.id,
        created_at=iso_ms(share.created_at),
        root_skill_id=share.root.id,
        items=[
            ShareBundleItem(
                id=i.id,
                content_hash=i.content_hash,
                files=[BundleFile.of(path, data) for path, data in i.files],
                slug=skills[i.id].slug,
                name=skills[i.id].name,
                description=skills[i.id].description,
            )
            for i in items
        ],
    )
    return json_response(body, exclude_unset=True)


@router.post(
    "/shares/{share_id}/import",
    status_code=201,
    summary="Copy a share's skills into the caller's personal vault (new ids, unique slugs)",
    response_model=ImportOut,
    responses=errors_for(),
)
async def import_share(
    share_id: str, request: Request, principal: WritePrincipal, svc: AppServices
) -> Response:
    result = await svc.shares.import_share(principal.user_id, share_id, ip=caller(request).ip)
    return json_response(ImportOut.of(result), 201)


@router.delete(
    "/shares/{share_id}",
    status_code=204,
    summary="Revoke one of the caller's shares (404 for anyone else's)",
    responses=errors_for(),
)
async def revoke_share(
    share_id: str, request: Request, principal: WritePrincipal, svc: AppServices
) -> Response:
    await svc.shares.revoke(principal.user_id, share_id, ip=caller(request).ip)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})
