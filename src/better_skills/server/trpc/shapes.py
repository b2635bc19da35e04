"""Our records in the original system's output shapes (camelCase, ISO dates): VaultMeta,
SkillOutput, SkillListItem, ResourceInSkill (original-system.md §1.11, §2)."""

from __future__ import annotations

from typing import Any

from better_skills.server.services.skills import SKILL_MD, Skill, SkillFile, SkillSummary
from better_skills.server.services.vaults import Vault, VaultRef
from better_skills.server.timefmt import iso_ms
from better_skills.skillfmt import mentions
from better_skills.skillfmt.frontmatter import FrontmatterError, split_skill_md

#: Our vault types under the original's names (a team vault is its "enterprise" vault).
VAULT_TYPES = {"personal": "personal", "team": "enterprise", "system": "system_default"}


def vault_type(ours: str) -> str:
    return VAULT_TYPES.get(ours, ours)


def vault_meta(
    ref: VaultRef, member: dict[str, Vault], *, read_only: bool | None = None
) -> dict[str, Any]:
    """VaultMeta. ``read_only`` None: the list flavour (every non-personal vault is read-only);
    otherwise the given (role-aware, or forced) value."""
    vault = member.get(ref.id)
    return {
        "id": ref.id,
        "slug": ref.slug,
        "name": ref.name,
        "type": vault_type(ref.type),
        "color": vault.color if vault else None,
        "isReadOnly": (ref.type != "personal") if read_only is None else read_only,
        "isEnabled": vault.enabled if vault else True,
    }


def body_of(skill_md: bytes) -> str:
    """SKILL.md without its frontmatter: the original's ``originalMarkdown``."""
    text = skill_md.decode("utf-8")
    try:
        return split_skill_md(text)[1]
    except FrontmatterError:
        return text


def render_labels(text: str, files: dict[str, str], skills: dict[str, str] | None = None) -> str:
    """Mentions as labels (no links): a file of this skill by its path, a skill the caller
    can read by its name, anything else as unknown."""

    def label(token: mentions.Token) -> str:
        if token.kind == "resource" and token.target in files:
            return files[token.target]
        if token.kind == "skill" and token.target in (skills or {}):
            return (skills or {})[token.target]
        return f"`(unknown {token.kind})`"

    return mentions.render(text, label)


def text_resources(skill: Skill) -> list[SkillFile]:
    """The files the original can represent as resources: text, other than SKILL.md."""
    return [
        f
        for f in skill.files
        if f.path != SKILL_MD and f.content is not None and mentions.is_text(f.content)
    ]


def list_item(summary: SkillSummary, frontmatter: dict[str, Any], meta: dict[str, Any]) -> dict:
    metadata = frontmatter.get("metadata")
    return {
        "id": summary.id,
        "ownerUserId": None,
        "slug": summary.slug,
        "name": summary.name,
        "description": summary.description,
        "frontmatter": frontmatter,
        "metadata": metadata if isinstance(metadata, dict) else {},
        "isDefault": summary.vault.type == "system",
        "sourceUrl": None,
        "sourceIdentifier": None,
        "vault": meta,
        "createdAt": iso_ms(summary.created_at),
        "updatedAt": iso_ms(summary.updated_at),
    }


def mentioned_skills(skill: Skill) -> set[str]:
    """Ids of the skills the text files of ``skill`` mention."""
    found: set[str] = set()
    for f in skill.files:
        if f.content is not None and mentions.is_text(f.content):
            text = f.content.decode("utf-8")
            found |= {t.target for t in mentions.mentions(text) if t.kind == "skill"}
    return found


def resource(
    skill: Skill,
    f: SkillFile,
    paths: dict[str, str],
    content: bool,
    skills: dict[str, str] | None = None,
) -> dict:
    text = (f.content or b"").decode("utf-8")
    s = skill.summary
    return {
        "id": f.id,
        "skillId": s.id,
        "path": f.path,
        "kind": f.kind,
        "content": text if content else "",
        "metadata": {},
        "createdAt": iso_ms(s.created_at),
        "updatedAt": iso_ms(s.updated_at),
        "renderedContent": render_labels(text, paths, skills) if content else "",
    }


def skill_output(
    skill: Skill,
    meta: dict[str, Any],
    *,
    content: bool = True,
    skills: dict[str, str] | None = None,
) -> dict[str, Any]:
    """SkillOutput from a skill read with its files' content; ``skills`` names the mentioned
    skills the caller can read."""
    by_path = {f.path: f for f in skill.files}
    paths = {f.id: f.path for f in skill.files}
    body = body_of(by_path[SKILL_MD].content or b"") if SKILL_MD in by_path else ""
    out = list_item(skill.summary, skill.frontmatter, meta)
    out["originalMarkdown"] = body
    out["renderedMarkdown"] = render_labels(body, paths, skills)
    out["resources"] = [resource(skill, f, paths, content, skills) for f in text_resources(skill)]
    return out
