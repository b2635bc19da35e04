"""``skills.*`` writes: create, update and delete. The original keeps SKILL.md as a
frontmatter object and a body, and resources as text; we store whole files, so inputs are
turned into a file set here and the services' rules decide."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from better_skills.server.dependencies import caller
from better_skills.server.services.skills import SKILL_MD, Skill, Upload
from better_skills.server.trpc import shapes
from better_skills.server.trpc.envelope import TrpcError
from better_skills.server.trpc.registry import Context, Input, procedure


class IdInput(Input):
    id: str = Field(min_length=1, max_length=100)


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
