"""Every ``/trpc`` procedure: input model, then a call into the services ``/api/v1`` uses.

Rules live in the services; this module only translates shapes (original-system.md §2).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from better_skills.protocol import errors
from better_skills.server.dependencies import caller, current_principal, services
from better_skills.server.principal import Principal
from better_skills.server.services import search as search_service
from better_skills.server.services.container import Services
from better_skills.server.services.skills import SKILL_MD, Skill, SkillPage, Upload, is_uuid
from better_skills.server.services.vaults import Vault
from better_skills.server.timefmt import iso_ms
from better_skills.server.trpc import shapes
from better_skills.server.trpc.envelope import TrpcError
from better_skills.skillfmt.mentions import is_text


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Context:
    """One HTTP request: the services and, when a procedure needs it, the caller."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.svc: Services = services(request)
        self._principal: Principal | None = None

    async def principal(self) -> Principal:
        if self._principal is None:
            try:
                self._principal = await current_principal(self.request)
            except errors.Unauthorized:
                raise TrpcError("UNAUTHORIZED", "Authentication required") from None
        return self._principal

    async def skill_names(self, *skills: Skill) -> dict[str, str]:
        """Names of the skills these mention that the caller can read (through the service,
        so its read rule decides), in one read however many there are."""
        user = (await self.principal()).user_id
        wanted = {i for skill in skills for i in shapes.mentioned_skills(skill)}
        if not wanted:
            return {}
        found = await self.svc.skills.get_many(user, sorted(wanted))
        return {i: s.summary.name for i, s in found.items()}

    async def vaults(self) -> dict[str, Vault]:
        user = (await self.principal()).user_id
        return {v.id: v for v in await self.svc.vaults.list_for(user)}


Handler = Callable[[Context, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Procedure:
    kind: str  # "query" or "mutation"
    model: type[Input] | None
    handler: Handler


PROCEDURES: dict[str, Procedure] = {}


def procedure(name: str, kind: str, model: type[Input] | None = None) -> Callable:
    def register(handler: Handler) -> Handler:
        PROCEDURES[name] = Procedure(kind, model, handler)
        return handler

    return register


# -- Inputs ----------------------------------------------------------------------------------


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


class IdInput(Input):
    id: str = Field(min_length=1, max_length=100)


class SearchInput(Input):
    query: str = Field(min_length=1, max_length=search_service.MAX_QUERY_CHARS)
    limit: int = Field(default=5, ge=1, le=search_service.MAX_LIMIT)


class SetEnabled(Input):
    vaultId: str = Field(min_length=1, max_length=100)
    isEnabled: bool


# -- Root ------------------------------------------------------------------------------------


@procedure("healthCheck", "query")
async def health_check(ctx: Context, _: Any) -> str:
    return "OK"


@procedure("me", "query")
async def me(ctx: Context, _: Any) -> dict[str, Any]:
    p = await ctx.principal()
    return {"user": {"id": p.user_id, "name": p.name, "email": p.email}}


@procedure("hasActivated", "query")
async def has_activated(ctx: Context, _: Any) -> dict[str, bool]:
    # We keep no onboarding flag: a user who has a session has an account with its
    # personal vault and the default skills, which is all the original's onboarding sets up.
    await ctx.principal()
    return {"activated": True}


@procedure("completeOnboarding", "mutation")
async def complete_onboarding(ctx: Context, _: Any) -> dict[str, bool]:
    await ctx.principal()
    return {"activated": True}


# -- vaults ----------------------------------------------------------------------------------


def _membership(v: Vault) -> dict[str, Any]:
    return {
        "membershipId": f"{v.id}:member",
        "vaultId": v.id,
        "role": v.role,
        "isEnabled": v.enabled,
        "canRead": True,
        "canWrite": v.can_write,
        "canAdmin": v.can_admin,
        "isReadOnly": not v.can_write,
        "membershipCreatedAt": None,
        "vault": {
            "id": v.id,
            "slug": v.slug,
            "name": v.name,
            "type": shapes.vault_type(v.type),
            "color": v.color,
            "isSystemManaged": v.type == "system",
        },
    }


@procedure("vaults.listMine", "query")
async def list_mine(ctx: Context, _: Any) -> list[dict[str, Any]]:
    return [_membership(v) for v in (await ctx.vaults()).values()]


@procedure("vaults.setEnabled", "mutation", SetEnabled)
async def set_enabled(ctx: Context, body: SetEnabled) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    try:
        await ctx.svc.vaults.set_enabled(user, body.vaultId, body.isEnabled)
    except errors.NotFound:
        raise TrpcError("NOT_FOUND", "Vault membership not found") from None
    return {"success": True, "vaultId": body.vaultId, "isEnabled": body.isEnabled}


# -- skills: reads ---------------------------------------------------------------------------


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


# -- skills: writes --------------------------------------------------------------------------


@procedure("skills.delete", "mutation", IdInput)
async def delete(ctx: Context, body: IdInput) -> dict[str, bool]:
    user = (await ctx.principal()).user_id
    await ctx.svc.skills.delete(user, body.id, ip=caller(ctx.request).ip)
    return {"success": True}


class ResourceInput(Input):
    path: str = Field(min_length=1, max_length=1000)
    kind: str = "reference"
    content: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class ResourceChange(ResourceInput):
    id: str | None = Field(default=None, max_length=100)
    delete: bool = False
    content: str = ""
    path: str = Field(default="", max_length=1000)


class CreateInput(Input):
    slug: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    skillMarkdown: str
    frontmatter: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    sourceUrl: str | None = None
    sourceIdentifier: str | None = None
    resources: list[ResourceInput] = Field(default_factory=list)
    vaultId: str | None = Field(default=None, max_length=100)


class UpdateInput(Input):
    id: str = Field(min_length=1, max_length=100)
    slug: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=5000)
    skillMarkdown: str | None = None
    frontmatter: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    vaultId: str | None = Field(default=None, max_length=100)
    resources: list[ResourceChange] | None = None


class ResourceByPath(Input):
    skillSlug: str = Field(min_length=1, max_length=200)
    resourcePath: str = Field(min_length=1, max_length=1000)


class ResourceBySkillId(Input):
    skillId: str = Field(min_length=1, max_length=100)
    resourcePath: str = Field(min_length=1, max_length=1000)


def compose_skill_md(frontmatter: dict[str, Any], body: str) -> bytes:
    """The original keeps SKILL.md as a frontmatter object and a body; we store the file."""
    import yaml  # server only: the CLI's --help must not load it

    head = yaml.safe_dump(frontmatter, sort_keys=False, allow_unicode=True)
    return _utf8(f"---\n{head}---\n{body}", SKILL_MD)


def _frontmatter(
    base: dict[str, Any], name: str | None, description: str | None, meta: Any
) -> dict[str, Any]:
    fm = dict(base)
    if name is not None:
        fm["name"] = name
    if description is not None:
        fm["description"] = description
    if meta:
        fm["metadata"] = meta
    return fm


def _utf8(text: str, where: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise TrpcError("BAD_REQUEST", f"{where}: the content is not valid Unicode text") from None


async def _written(ctx: Context, skill: Skill) -> dict[str, Any]:
    member = await ctx.vaults()
    meta = shapes.vault_meta(skill.summary.vault, member, read_only=False)
    return shapes.skill_output(skill, meta, skills=await ctx.skill_names(skill))


@procedure("skills.create", "mutation", CreateInput)
async def create(ctx: Context, body: CreateInput) -> dict[str, Any]:
    user = (await ctx.principal()).user_id
    fm = _frontmatter(body.frontmatter, body.name, body.description, body.metadata)
    files = {SKILL_MD: compose_skill_md(fm, body.skillMarkdown)}
    for r in body.resources:
        if r.path in files:
            raise TrpcError("BAD_REQUEST", f'The resource path "{r.path}" appears twice')
        files[r.path] = _utf8(r.content, r.path)
    vault = body.vaultId
    skill = await ctx.svc.skills.create(
        user, Upload(files), vault=vault, slug=body.slug, ip=caller(ctx.request).ip
    )
    return await _written(ctx, await ctx.svc.skills.get(user, skill.summary.id, content=True))


@procedure("skills.update", "mutation", UpdateInput)
async def update(ctx: Context, body: UpdateInput) -> dict[str, Any]:
    """A partial update on a whole-file-set service: start from the stored files (binary
    ones, which the original cannot represent, stay as they are), apply the changes."""
    user = (await ctx.principal()).user_id
    current = await ctx.svc.skills.get(user, body.id, content=True)
    files = {f.path: f.content or b"" for f in current.files}
    by_id = {f.id: f.path for f in shapes.text_resources(current)}
    if any(v is not None for v in (body.skillMarkdown, body.frontmatter, body.name)) or any(
        v is not None for v in (body.description, body.metadata)
    ):
        old_body = shapes.body_of(files.get(SKILL_MD, b""))
        fm = _frontmatter(
            body.frontmatter if body.frontmatter is not None else current.frontmatter,
            body.name,
            body.description,
            body.metadata,
        )
        files[SKILL_MD] = compose_skill_md(
            fm, body.skillMarkdown if body.skillMarkdown is not None else old_body
        )
    renamed: dict[str, str] = {}
    for change in body.resources or []:
        if change.id is not None and change.id not in by_id:
            raise TrpcError("NOT_FOUND", "Resource not found")
        if change.id is not None:
            files.pop(by_id[change.id], None)
    for change in body.resources or []:
        if change.delete:
            continue
        if not change.path:
            raise TrpcError("BAD_REQUEST", "Invalid input: resources: path is required")
        if change.path in files:
            raise TrpcError("CONFLICT", f'The skill already has a resource "{change.path}"')
        files[change.path] = _utf8(change.content, change.path)
        if change.id is not None:
            renamed[change.path] = change.id
    skill = await ctx.svc.skills.update(
        user,
        current.summary.id,
        Upload(files),
        slug=body.slug,
        vault=body.vaultId,
        ip=caller(ctx.request).ip,
        renamed_ids=renamed,
    )
    return await _written(ctx, await ctx.svc.skills.get(user, skill.summary.id, content=True))


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


# -- Shares (original-system.md §8.2) ----------------------------------------------------------


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


# -- skills: graph ---------------------------------------------------------------------------


@procedure("skills.graphForSkill", "query", SkillIdInput)
async def graph_for_skill(ctx: Context, body: SkillIdInput) -> dict[str, Any]:
    """The connected component around a skill (at most 10 rounds), as GraphOutput; a skill
    the caller cannot read gives an empty graph, not an error (original-system.md §2.1)."""
    user = (await ctx.principal()).user_id
    graph = await ctx.svc.graph.around(user, body.skillId, content=True)
    member = await ctx.vaults()
    return {
        "nodes": [
            {
                "id": n.id,
                "type": n.type,
                "label": n.label,
                "description": n.description,
                "slug": n.slug,
                "parentSkillId": n.parent_skill_id,
                "kind": n.kind,
                "contentSnippet": n.snippet,
                "updatedAt": iso_ms(n.updated_at) if n.updated_at is not None else None,
                "vault": shapes.vault_meta(n.vault, member),
            }
            for n in graph.nodes
        ],
        "edges": [
            {"id": e.id, "source": e.source, "target": e.target, "kind": e.kind}
            for e in graph.edges
        ],
    }
