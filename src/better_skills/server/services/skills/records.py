"""What the skill service hands out: summaries, files, pages, the manifest and bundles, and
the small value rules they share (cursors, ETags, text the databases can take)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any

from better_skills.protocol import errors
from better_skills.server.services.vaults import VaultRef
from better_skills.skillfmt import hashing, paths

SKILL_MD = "SKILL.md"
MAX_PAGE = 100
MAX_BUNDLE = 200
#: The most bytes of files one bundle answer holds; more skills than fit: ask for fewer.
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class SkillSummary:
    id: str
    vault: VaultRef
    slug: str
    name: str
    description: str
    content_hash: str
    file_count: int
    size: int
    created_at: int
    updated_at: int

    @property
    def etag(self) -> str:
        return hashing.etag(self.content_hash)


@dataclass(frozen=True)
class SkillFile:
    id: str
    path: str
    kind: str
    size: int
    sha256: str
    content: bytes | None = None  # only when asked for

    @property
    def media_type(self) -> str:
        return paths.media_type(self.path)

    @property
    def etag(self) -> str:
        return hashing.etag(self.sha256)


@dataclass(frozen=True)
class Skill:
    summary: SkillSummary
    frontmatter: dict[str, Any]
    files: list[SkillFile]


@dataclass(frozen=True)
class SkillPage:
    items: list[SkillSummary]
    next_cursor: str | None


@dataclass(frozen=True)
class Reference:
    skill: SkillSummary
    via_path: str | None  # the mentioning file of that skill


@dataclass(frozen=True, slots=True)
class ManifestItem:
    id: str
    vault: VaultRef
    slug: str
    name: str
    description: str
    content_hash: str
    updated_at: int


@dataclass(frozen=True)
class Manifest:
    items: list[ManifestItem]
    etag: str  # from the vaults' revisions (SkillService.manifest_etag)


@dataclass(frozen=True)
class BundleItem:
    id: str
    content_hash: str
    files: list[tuple[str, bytes]]  # path, bytes ready to install (mentions rendered)


def clean_text(value: str) -> bool:
    """Text the databases can take: encodable as UTF-8 (no lone surrogate) and no NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\0" not in value


def matches_etag(header: str, content_hash: str) -> bool:
    """Does an If-Match / If-None-Match header name this content (``*`` names any)?"""
    wanted = hashing.etag(content_hash)
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def encode_cursor(created_at: int, skill_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at}:{skill_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, skill_id = raw.split(":", 1)
        uuid.UUID(skill_id)
        return int(created_at), skill_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise errors.InvalidRequest("Invalid cursor.") from None


def summary_from_row(row: Any) -> SkillSummary:
    return SkillSummary(
        id=row.id,
        vault=VaultRef(row.vault_id, row.vault_slug, row.vault_name, row.vault_type),
        slug=row.slug,
        name=row.name,
        description=row.description,
        content_hash=row.content_hash,
        file_count=row.file_count,
        size=row.size,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def file_from_row(row: Any, content: bool) -> SkillFile:
    return SkillFile(
        row.id, row.path, row.kind, row.size, row.sha256, bytes(row.content) if content else None
    )


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True
