"""The /api/v1 wire shapes (api.md), one pydantic model per resource shape.

Services return dataclasses; the ``from_record`` constructors here are the only place that
turns them into wire JSON (snake_case, ISO 8601 UTC times).
"""

from __future__ import annotations

import base64
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from better_skills.server.services import skills as s
from better_skills.server.services.vaults import Vault, VaultRef
from better_skills.server.timefmt import iso_ms
from better_skills.skillfmt.mentions import is_text

VaultType = Literal["personal", "team", "system"]
Role = Literal["owner", "admin", "member"]
FileKind = Literal["skill", "reference", "script", "asset", "other"]


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, so a typo does not pass silently."""

    model_config = ConfigDict(extra="forbid")


# -- Requests --------------------------------------------------------------------------------


class FileUpload(Strict):
    """One file: ``content`` for UTF-8 text, or ``content_base64`` for any bytes."""

    path: str = Field(max_length=1024)
    content: str | None = None
    content_base64: str | None = None


class CreateSkill(Strict):
    vault: str | None = Field(None, description="Vault slug or id; default: personal")
    slug: str | None = Field(None, description="Default: the frontmatter name made URL-safe")
    files: list[FileUpload] = Field(max_length=100_000)


class UpdateSkill(Strict):
    files: list[FileUpload] = Field(max_length=100_000)
    slug: str | None = None
    vault: str | None = Field(None, description="Moves the skill (both vaults need write)")


class MembershipPatch(Strict):
    enabled: bool


class BundleRequest(Strict):
    ids: list[str] = Field(max_length=s.MAX_BUNDLE)


# -- Responses -------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    path: str | None
    message: str
    line: int | None = None
    code: str | None = None


class Error(BaseModel):
    error: str
    error_description: str
    details: list[ErrorDetail] | None = None


class VaultRefOut(BaseModel):
    id: str
    slug: str
    name: str
    type: VaultType

    @classmethod
    def from_record(cls, ref: VaultRef) -> VaultRefOut:
        return cls(id=ref.id, slug=ref.slug, name=ref.name, type=ref.type)  # type: ignore[arg-type]


class VaultOut(BaseModel):
    id: str
    slug: str
    name: str
    type: VaultType
    color: str | None
    role: Role
    enabled: bool
    can_write: bool
    can_admin: bool
    skill_count: int

    @classmethod
    def from_record(cls, v: Vault) -> VaultOut:
        return cls(
            id=v.id,
            slug=v.slug,
            name=v.name,
            type=v.type,  # type: ignore[arg-type]
            color=v.color,
            role=v.role,  # type: ignore[arg-type]
            enabled=v.enabled,
            can_write=v.can_write,
            can_admin=v.can_admin,
            skill_count=v.skill_count,
        )


class VaultList(BaseModel):
    items: list[VaultOut]


class UserOut(BaseModel):
    id: str
    name: str
    email: str


class Me(BaseModel):
    user: UserOut
    vaults: list[VaultOut]


class SkillSummaryOut(BaseModel):
    id: str
    vault: VaultRefOut
    slug: str
    name: str
    description: str
    content_hash: str
    etag: str
    file_count: int
    size: int
    created_at: str
    updated_at: str

    @classmethod
    def from_record(cls, r: s.SkillSummary) -> SkillSummaryOut:
        return cls(
            id=r.id,
            vault=VaultRefOut.from_record(r.vault),
            slug=r.slug,
            name=r.name,
            description=r.description,
            content_hash=r.content_hash,
            etag=r.etag,
            file_count=r.file_count,
            size=r.size,
            created_at=iso_ms(r.created_at),
            updated_at=iso_ms(r.updated_at),
        )


def summary_json(r: s.SkillSummary) -> dict[str, Any]:
    """``SkillSummaryOut.from_record(r)`` as plain data, field for field, for the hot lists
    (building and validating a model per row cost more than reading the row).
    ``tests/vault/test_wire_fast_path.py`` keeps the two equal."""
    v = r.vault
    return {
        "id": r.id,
        "vault": {"id": v.id, "slug": v.slug, "name": v.name, "type": v.type},
        "slug": r.slug,
        "name": r.name,
        "description": r.description,
        "content_hash": r.content_hash,
        "etag": r.etag,
        "file_count": r.file_count,
        "size": r.size,
        "created_at": iso_ms(r.created_at),
        "updated_at": iso_ms(r.updated_at),
    }


class SkillPageOut(BaseModel):
    items: list[SkillSummaryOut]
    next_cursor: str | None


class FileOut(BaseModel):
    id: str = Field(description="The file's id, for [[resource:<id>]] mentions")
    path: str
    kind: FileKind
    size: int
    sha256: str
    media_type: str
    content: str | None = Field(None, description="With ?content=1, for text files")
    content_base64: str | None = Field(None, description="With ?content=1, for binary files")

    @classmethod
    def from_record(cls, f: s.SkillFile) -> FileOut:
        out = cls(
            id=f.id,
            path=f.path,
            kind=f.kind,  # type: ignore[arg-type]
            size=f.size,
            sha256=f.sha256,
            media_type=f.media_type,
        )
        if f.content is not None:
            if is_text(f.content):
                out.content = f.content.decode("utf-8")
            else:
                out.content_base64 = base64.b64encode(f.content).decode("ascii")
        return out


class SkillOut(SkillSummaryOut):
    frontmatter: dict[str, Any]
    files: list[FileOut]

    @classmethod
    def from_skill(cls, skill: s.Skill) -> SkillOut:
        summary = SkillSummaryOut.from_record(skill.summary)
        return cls(
            **summary.model_dump(),
            frontmatter=skill.frontmatter,
            files=[FileOut.from_record(f) for f in skill.files],
        )


class ReferenceOut(BaseModel):
    skill: SkillSummaryOut
    via_path: str | None


class ReferenceList(BaseModel):
    items: list[ReferenceOut]


class ManifestItemOut(BaseModel):
    id: str
    vault: VaultRefOut
    slug: str
    name: str
    description: str
    content_hash: str
    updated_at: str


def manifest_item_json(i: s.ManifestItem) -> dict[str, Any]:
    """A ``ManifestItemOut`` as plain data (see :func:`summary_json`)."""
    v = i.vault
    return {
        "id": i.id,
        "vault": {"id": v.id, "slug": v.slug, "name": v.name, "type": v.type},
        "slug": i.slug,
        "name": i.name,
        "description": i.description,
        "content_hash": i.content_hash,
        "updated_at": iso_ms(i.updated_at),
    }


class ManifestOut(BaseModel):
    items: list[ManifestItemOut]
    generated_at: str


class BundleFile(BaseModel):
    path: str
    content: str | None = None
    content_base64: str | None = None

    @classmethod
    def of(cls, path: str, data: bytes) -> BundleFile:
        if is_text(data):
            return cls(path=path, content=data.decode("utf-8"))
        return cls(path=path, content_base64=base64.b64encode(data).decode("ascii"))


class BundleItemOut(BaseModel):
    id: str
    content_hash: str
    files: list[BundleFile]


class BundleOut(BaseModel):
    items: list[BundleItemOut]
