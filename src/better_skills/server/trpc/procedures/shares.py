"""``skills.getShareInstallPackage``: a share's snapshot, public (original-system.md §8.2)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from better_skills.protocol import errors
from better_skills.server.services.skills import SKILL_MD
from better_skills.server.timefmt import iso_ms
from better_skills.server.trpc import shapes
from better_skills.server.trpc.envelope import TrpcError
from better_skills.server.trpc.registry import Context, Input, procedure
from better_skills.skillfmt.mentions import is_text


class ShareIdInput(Input):
    shareId: str = Field(min_length=1, max_length=100)


@procedure("skills.getShareInstallPackage", "query", ShareIdInput)
async def get_share_install_package(ctx: Context, body: ShareIdInput) -> dict[str, Any]:
    """Public: the snapshot ready to install, mentions rendered as links between the folders
    the CLI installs the shared skills into (``shared-<8 chars>-<slug>``)."""
    try:
        share, items = await ctx.svc.shares.bundle(body.shareId)
    except errors.NotFound:
        raise TrpcError("NOT_FOUND", "Shared skill not found") from None
    rendered = {i.id: dict(i.files) for i in items}
    skills = []
    for s in share.skills:
        raw = {f.path: f.content for f in s.files}
        out = rendered[s.id]
        skills.append(
            {
                "id": s.id,
                "slug": s.slug,
                "name": s.name,
                "description": s.description,
                "frontmatter": s.frontmatter,
                "originalMarkdown": shapes.body_of(raw.get(SKILL_MD, b"")),
                "renderedMarkdown": shapes.body_of(out.get(SKILL_MD, b"")),
                "sourceUrl": None,
                "sourceIdentifier": None,
                # The original's resources are text: a binary file has no representation.
                "resources": [
                    {"path": f.path, "kind": f.kind, "renderedContent": out[f.path].decode()}
                    for f in sorted(s.files, key=lambda f: f.path)
                    if f.path != SKILL_MD and is_text(f.content)
                ],
            }
        )
    return {
        "shareId": share.id,
        "rootSkillId": share.root.id,
        "createdAt": iso_ms(share.created_at),
        "includedSkills": [{"id": s.id, "slug": s.slug, "name": s.name} for s in share.skills],
        "skills": skills,
    }
