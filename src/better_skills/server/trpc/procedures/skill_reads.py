"""``skills.*`` reads: lists and pages, one skill by id or slug, search, references, and
one resource of a skill."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from better_skills.protocol import errors
from better_skills.server.services import search as search_service
from better_skills.server.services.skills import SKILL_MD, Skill, SkillPage, is_uuid
from better_skills.server.timefmt import iso_ms
from better_skills.server.trpc import shapes
from better_skills.server.trpc.envelope import TrpcError
from better_skills.server.trpc.registry import Context, Input, procedure


class Pagination(Input):
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)


class ListInput(Pagination):
    search: str | None = Field(default=None, max_length=200)


class GetById(Input):
    id: str = Field(min_length=1, max_length=100)
    linkMentions: bool = False
    includeResourceContent: bool = True


class GetBySlug(Input):
    slug: str = Field(min_length=1, max_length=200)
    vaultSlug: str | None = Field(default=None, min_length=1, max_length=100)
    linkMentions: bool = False
    includeResourceContent: bool = True


class SkillIdInput(Input):
    skillId: str = Field(min_length=1, max_length=100)


class SearchInput(Input):
    query: str = Field(min_length=1, max_length=search_service.MAX_QUERY_CHARS)
    limit: int = Field(default=5, ge=1, le=search_service.MAX_LIMIT)


class ResourceByPath(Input):
    skillSlug: str = Field(min_length=1, max_length=200)
    resourcePath: str = Field(min_length=1, max_length=1000)


class ResourceBySkillId(Input):
    skillId: str = Field(min_length=1, max_length=100)
    resourcePath: str = Field(min_length=1, max_length=1000)


async def _page(ctx: Context, body: Pagination, search: str | None = None) -> SkillPage:
    """A page of the caller's skills. The original's cursor is the id of the last skill of
    the page before (original-system.md §2): it is turned into ours here; the opaque cursors
    this server gave out before are still taken."""
    user = (await ctx.principal()).user_id
    cursor = body.cursor
    if cursor is not None and is_uuid(cursor):
        cursor = await ctx.svc.skills.cursor_at(user, cursor)
        if cursor is None:
            raise TrpcError("BAD_REQUEST", "Invalid cursor")
    try:
        return await ctx.svc.skills.list(user, q_text=search, limit=body.limit, cursor=cursor)
    except errors.InvalidRequest as exc:
        raise TrpcError(
            "BAD_REQUEST", "Invalid cursor" if body.cursor else exc.description
        ) from None


def _next_cursor(page: SkillPage) -> str | None:
    """The original's ``nextCursor``: the id of the page's last skill when more follow."""
    return page.items[-1].id if page.next_cursor and page.items else None


async def _list(ctx: Context, body: ListInput) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    page = await _page(ctx, body, body.search)
    member = await ctx.vaults()
    # One read for the page's frontmatter, not one per skill.
    skills = await ctx.svc.skills.get_many(user, [s.id for s in page.items])
    items = [
        shapes.list_item(s, skills[s.id].frontmatter, shapes.vault_meta(s.vault, member))
        for s in page.items
        if s.id in skills  # a skill deleted since the page was read is left out
    ]
    return {"items": items, "nextCursor": _next_cursor(page)}


@procedure("skills.list", "query", ListInput)
async def skills_list(ctx: Context, body: ListInput) -> dict[str, Any]:
    return await _list(ctx, body)


@procedure("skills.listByOwner", "query", ListInput)
async def skills_list_by_owner(ctx: Context, body: ListInput) -> dict[str, Any]:
    return await _list(ctx, body)


async def _one(ctx: Context, skill: Skill, content: bool) -> dict[str, Any]:
    member = await ctx.vaults()
    vault = member.get(skill.summary.vault.id)
    meta = shapes.vault_meta(skill.summary.vault, member, read_only=not (vault and vault.can_write))
    names = await ctx.skill_names(skill)
    return shapes.skill_output(skill, meta, content=content, skills=names)


@procedure("skills.getById", "query", GetById)
async def get_by_id(ctx: Context, body: GetById) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    skill = await ctx.svc.skills.get(user, body.id, content=True)
    return await _one(ctx, skill, body.includeResourceContent)


@procedure("skills.getBySlug", "query", GetBySlug)
async def get_by_slug(ctx: Context, body: GetBySlug) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    slug = body.slug.strip().lower()
    vault = body.vaultSlug.strip().lower() if body.vaultSlug else None
    try:
        skill = await ctx.svc.skills.get_by_slug(user, slug, vault, content=True)
    except errors.Conflict as exc:
        candidates = sorted(d["path"] for d in exc.details or [])
        names = {d["path"]: d["message"] for d in exc.details or []}
        lines = [f'ambiguous skill slug "{slug}"; provide <vault-slug>/<skill-slug>', "matches:"]
        lines += [f"- {c} ({names[c]})" for c in candidates]
        raise TrpcError("CONFLICT", "\n".join(lines)) from None
    except errors.NotFound:
        raise TrpcError("NOT_FOUND", "Skill not found") from None
    return await _one(ctx, skill, body.includeResourceContent)


@procedure("skills.syncPage", "query", Pagination)
async def sync_page(ctx: Context, body: Pagination) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    page = await _page(ctx, body)
    member = await ctx.vaults()
    # The page's files in one read, and the names its mentions need in one more (it read
    # each skill, and each mentioned skill, on its own: 2 + 2 x 100 statements a page).
    skills = await ctx.svc.skills.get_many(user, [s.id for s in page.items], content=True)
    names = await ctx.skill_names(*skills.values())
    items = []
    for s in page.items:
        skill = skills.get(s.id)
        if skill is None:  # deleted since the page was read
            continue
        full = shapes.skill_output(skill, shapes.vault_meta(s.vault, member), skills=names)
        items.append(
            {
                "id": s.id,
                "slug": s.slug,
                "name": s.name,
                "description": s.description,
                "updatedAt": iso_ms(s.updated_at),
                "originalMarkdown": full["originalMarkdown"],
                "renderedMarkdown": full["renderedMarkdown"],
                "frontmatter": full["frontmatter"],
                "resources": sorted(
                    (
                        {"path": r["path"], "renderedContent": r["renderedContent"]}
                        for r in full["resources"]
                    ),
                    key=lambda r: r["path"],
                ),
                "vault": full["vault"],
                "sourceUrl": None,
                "sourceIdentifier": None,
            }
        )
    return {"items": items, "nextCursor": _next_cursor(page)}


_MATCH_TYPES = {"name": "title", "description": "description", "content": "content"}


@procedure("skills.search", "query", SearchInput)
async def skills_search(ctx: Context, body: SearchInput) -> dict[str, Any]:
    principal = await ctx.principal()
    query = search_service.parse_query(body.query)
    hits, total = await search_service.search(ctx.svc.db, principal, query, body.limit)
    member = await ctx.vaults()
    return {
        "items": [
            {
                "id": h.summary.id,
                "slug": h.summary.slug,
                "name": h.summary.name,
                "description": h.summary.description,
                "vault": shapes.vault_meta(h.summary.vault, member),
                "matchType": _MATCH_TYPES.get(h.match, h.match),
                "score": round(h.score, 2),
                "snippet": h.snippet,
                "updatedAt": iso_ms(h.summary.updated_at),
            }
            for h in hits
        ],
        "total": total,
    }


@procedure("skills.references", "query", SkillIdInput)
async def references(ctx: Context, body: SkillIdInput) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    refs = await ctx.svc.skills.references(user, body.skillId)
    return {
        "references": [
            {
                "linkId": f"{r.skill.id}:{r.via_path or SKILL_MD}",
                "sourceSkillId": r.skill.id,
                "sourceSkillName": r.skill.name,
                "sourceSkillSlug": r.skill.slug,
                "sourceResourcePath": None if r.via_path in (None, SKILL_MD) else r.via_path,
                "kind": "mention",
            }
            for r in refs
        ]
    }


async def _resource(ctx: Context, skill_id: str, path: str) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    skill = await ctx.svc.skills.get(user, skill_id, content=True)
    files = {f.path: f for f in shapes.text_resources(skill)}
    if path not in files:
        raise TrpcError("NOT_FOUND", "Resource not found")
    paths = {f.id: f.path for f in skill.files}
    out = shapes.resource(skill, files[path], paths, True, await ctx.skill_names(skill))
    out.update(skillId=skill.summary.id, skillSlug=skill.summary.slug, skillName=skill.summary.name)
    return out


@procedure("skills.getResourceByPath", "query", ResourceByPath)
async def resource_by_path(ctx: Context, body: ResourceByPath) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    try:
        skill = await ctx.svc.skills.get_by_slug(user, body.skillSlug)
    except errors.Conflict as exc:  # the original takes the first match
        first = sorted(d["path"] for d in exc.details or [])[0]
        skill = await ctx.svc.skills.get_by_slug(user, body.skillSlug, first.split("/")[0])
    except errors.NotFound:
        raise TrpcError("NOT_FOUND", "Skill not found") from None
    return await _resource(ctx, skill.summary.id, body.resourcePath)


@procedure("skills.getResourceBySkillIdAndPath", "query", ResourceBySkillId)
async def resource_by_skill_id(ctx: Context, body: ResourceBySkillId) -> dict[str, Any]:
    return await _resource(ctx, body.skillId, body.resourcePath)
