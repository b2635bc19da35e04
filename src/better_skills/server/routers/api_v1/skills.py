"""``/api/v1/skills``: list, read, create, replace, delete, files, archive, references.

(``/api/v1/skills/search`` is its own router, included before this one.)
"""

from __future__ import annotations

import io
import tarfile
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from better_skills.server.dependencies import caller
from better_skills.server.routers.api_v1._common import (
    AppServices,
    CurrentPrincipal,
    WritePrincipal,
    data_response,
    errors_for,
    json_response,
    not_modified,
)
from better_skills.server.schemas import (
    CreateSkill,
    FileUpload,
    ReferenceList,
    ReferenceOut,
    SkillOut,
    SkillPageOut,
    SkillSummaryOut,
    UpdateSkill,
    summary_json,
)
from better_skills.server.services.skills import Skill, SkillFile, Upload, matches_etag

router = APIRouter(tags=["skills"])

Content = Annotated[bool, Query(description="1: include each file's content")]
IfMatch = Annotated[str | None, Header(description="The skill's etag; 412 when stale")]
IfNoneMatch = Annotated[str | None, Header(description="An etag; 304 when it is current")]


def _upload(files: list[FileUpload]) -> Upload:
    return Upload.from_wire([(f.path, f.content, f.content_base64) for f in files])


def _skill_response(skill: Skill, status_code: int = 200) -> Response:
    return json_response(
        SkillOut.from_skill(skill), status_code, etag=skill.summary.etag, exclude_unset=True
    )


@router.get(
    "/skills",
    summary="Skills of the caller's vaults, newest first",
    response_model=SkillPageOut,
    responses=errors_for(),
)
async def list_skills(
    principal: CurrentPrincipal,
    svc: AppServices,
    q: Annotated[
        str | None, Query(max_length=200, description="Substring of name, slug, description")
    ] = None,
    vault: Annotated[str | None, Query(max_length=100, description="Vault slug or id")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    page = await svc.skills.list(
        principal.user_id, q_text=q, vault=vault, limit=limit, cursor=cursor
    )
    # The shape of SkillPageOut, built as plain data (see schemas.summary_json).
    return data_response(
        {"items": [summary_json(s) for s in page.items], "next_cursor": page.next_cursor}
    )


@router.post(
    "/skills",
    status_code=201,
    summary="Create a skill from its files (SKILL.md required)",
    response_model=SkillOut,
    responses=errors_for(409, 413, 415, 429),
)
async def create_skill(
    body: CreateSkill, request: Request, principal: WritePrincipal, svc: AppServices
) -> Response:
    skill = await svc.skills.create(
        principal.user_id,
        _upload(body.files),
        vault=body.vault,
        slug=body.slug,
        ip=caller(request).ip,
    )
    return _skill_response(skill, 201)


@router.get(
    "/skills/by-slug/{slug}",
    summary="A skill by slug; 409 with the candidates when several vaults have it",
    response_model=SkillOut,
    responses=errors_for(409),
)
async def get_skill_by_slug(
    slug: str,
    principal: CurrentPrincipal,
    svc: AppServices,
    vault: Annotated[str | None, Query(max_length=100)] = None,
    content: Content = False,
) -> Response:
    skill = await svc.skills.get_by_slug(principal.user_id, slug, vault, content=content)
    return _skill_response(skill)


@router.get(
    "/skills/{skill_id}",
    summary="A skill and its files (?content=1 adds their content)",
    response_model=SkillOut,
    responses={**errors_for(), 304: {"description": "If-None-Match names the current etag"}},
)
async def get_skill(
    skill_id: str,
    principal: CurrentPrincipal,
    svc: AppServices,
    content: Content = False,
    if_none_match: IfNoneMatch = None,
) -> Response:
    skill = await svc.skills.get(principal.user_id, skill_id, content=content)
    if if_none_match is not None and matches_etag(if_none_match, skill.summary.content_hash):
        return not_modified(skill.summary.etag)
    return _skill_response(skill)


@router.put(
    "/skills/{skill_id}",
    summary="Replace the skill's whole file set; `vault` moves it",
    response_model=SkillOut,
    responses=errors_for(409, 412, 413, 415, 429),
)
async def replace_skill(
    skill_id: str,
    body: UpdateSkill,
    request: Request,
    principal: WritePrincipal,
    svc: AppServices,
    if_match: IfMatch = None,
) -> Response:
    skill = await svc.skills.update(
        principal.user_id,
        skill_id,
        _upload(body.files),
        slug=body.slug,
        vault=body.vault,
        if_match=if_match,
        ip=caller(request).ip,
    )
    return _skill_response(skill)


@router.delete(
    "/skills/{skill_id}",
    status_code=204,
    summary="Delete a skill",
    responses=errors_for(412, 429),
)
async def delete_skill(
    skill_id: str,
    request: Request,
    principal: WritePrincipal,
    svc: AppServices,
    if_match: IfMatch = None,
) -> Response:
    await svc.skills.delete(principal.user_id, skill_id, if_match=if_match, ip=caller(request).ip)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.get(
    "/skills/{skill_id}/files/{path:path}",
    summary="The raw bytes of one file",
    response_class=Response,
    responses={
        **errors_for(),
        200: {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The file, with the media type of its extension",
        },
        304: {"description": "If-None-Match names the current etag"},
    },
)
async def get_file(
    skill_id: str,
    path: str,
    principal: CurrentPrincipal,
    svc: AppServices,
    if_none_match: IfNoneMatch = None,
) -> Response:
    found: SkillFile = await svc.skills.get_file(principal.user_id, skill_id, path)
    if if_none_match is not None and matches_etag(if_none_match, found.sha256):
        return not_modified(found.etag)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"ETag": found.etag, "Cache-Control": "private, no-cache"},
    )


def _tar_gz(skill: Skill) -> bytes:
    """The folder as a gzipped tar: every file at its path, no enclosing folder."""
    buffer = io.BytesIO()
    mtime = skill.summary.updated_at // 1000
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for f in skill.files:
            info = tarfile.TarInfo(f.path)
            info.size = f.size
            info.mtime = mtime
            info.mode = 0o755 if f.kind == "script" else 0o644
            tar.addfile(info, io.BytesIO(f.content or b""))
    return buffer.getvalue()


@router.get(
    "/skills/{skill_id}/archive",
    summary="The whole folder as a .tar.gz (what clone unpacks)",
    responses={**errors_for(), 200: {"content": {"application/gzip": {}}, "description": "tar.gz"}},
)
async def get_archive(skill_id: str, principal: CurrentPrincipal, svc: AppServices) -> Response:
    skill = await svc.skills.get(principal.user_id, skill_id, content=True)
    data = await anyio.to_thread.run_sync(_tar_gz, skill)
    return Response(
        data,
        media_type="application/gzip",
        headers={
            "ETag": skill.summary.etag,
            "Cache-Control": "private, no-cache",
            "Content-Disposition": f'attachment; filename="{skill.summary.slug}.tar.gz"',
        },
    )


@router.get(
    "/skills/{skill_id}/references",
    summary="The skills whose files mention this skill or its files",
    response_model=ReferenceList,
    responses=errors_for(),
)
async def get_references(skill_id: str, principal: CurrentPrincipal, svc: AppServices) -> Response:
    refs = await svc.skills.references(principal.user_id, skill_id)
    return json_response(
        ReferenceList(
            items=[
                ReferenceOut(skill=SkillSummaryOut.from_record(r.skill), via_path=r.via_path)
                for r in refs
            ]
        )
    )
