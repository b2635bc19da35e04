"""A skill's page in the web console: its files as a tree, the chosen file rendered (Markdown
sanitised, code highlighted), who mentions it and what it mentions, and the downloads of one
file or the whole skill as a zip.

A skill the viewer cannot read is a 404 page. ``show_skill`` also draws the edit form shown
again after a refused edit (``skill_edit``).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import anyio.to_thread
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.server.dependencies import services
from better_skills.server.http import NO_STORE
from better_skills.server.render import link_mentions, render_markdown
from better_skills.server.render.code import highlight_file
from better_skills.server.render.links import SKILL_PAGE, file_url, skill_url
from better_skills.server.routers.pages._console import (
    load_skill,
    session_or_login,
    skill_not_found,
)
from better_skills.server.routers.pages._forms import session_csrf
from better_skills.server.routers.pages._render import error_page, render
from better_skills.server.services.sessions import SessionView
from better_skills.server.services.skills import SKILL_MD, Skill, SkillFile
from better_skills.skillfmt import mentions

router = APIRouter()

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")
NOTICES = {
    "saved": "Saved. The next sync brings the change to your agents.",
    "uploaded": "File uploaded.",
}


def _is_markdown(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def _text(data: bytes | None) -> str | None:
    return data.decode("utf-8") if data is not None and mentions.is_text(data) else None


@dataclass
class EditState:
    """An edit form shown again: the person's text, and why it was not saved."""

    path: str
    text: str
    message: str
    details: list[dict[str, Any]]
    content_hash: str


def _tree(files: list[SkillFile]) -> list[dict[str, Any]]:
    """The files as an indented list: each folder once, before its files."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for f in sorted(files, key=lambda f: (f.path != SKILL_MD, f.path)):
        parts = f.path.split("/")
        for depth in range(len(parts) - 1):
            folder = "/".join(parts[: depth + 1])
            if folder not in seen:
                seen.add(folder)
                rows.append({"folder": True, "name": parts[depth] + "/", "depth": depth})
        rows.append({"folder": False, "name": parts[-1], "depth": len(parts) - 1, "file": f})
    return rows


async def show_skill(
    request: Request,
    view: SessionView,
    skill: Skill,
    *,
    path: str,
    edit: EditState | None = None,
    editing: bool = False,
    status: int = 200,
) -> Response:
    """The skill's page showing the file at ``path``; with ``edit``, the edit form shown
    again with the person's text and why it was not saved."""
    svc = services(request)
    user_id = view.user.id
    by_path = {f.path: f for f in skill.files}
    current = by_path.get(path)
    if current is None:
        return error_page(
            view.user,
            404,
            "File not found",
            "This skill has no file at that path.",
            link=(skill_url(skill.summary.id), "Back to the skill"),
        )
    text = _text(current.content)
    # Every text file's mentions: the links of this file and the skill's outgoing references.
    texts = [t for t in (_text(f.content) for f in skill.files) if t is not None]
    targets = await svc.skills.mention_targets(user_id, texts)
    shown = ""
    if text is not None:
        if _is_markdown(path):
            body = text
            if path == SKILL_MD:
                body = _body_of(text)
            shown = render_markdown(link_mentions(body, targets, skill.summary.id))
        else:
            shown = highlight_file(path, text)
    vaults = {v.id: v for v in await svc.vaults.list_for(user_id)}
    vault = vaults.get(skill.summary.vault.id)
    references = await svc.skills.references(user_id, skill.summary.id)
    outgoing = _outgoing(skill, targets, texts)
    return render(
        "skill.html",
        status=status,
        user=view.user,
        skill=skill,
        summary=skill.summary,
        vault=vault,
        tree=_tree(skill.files),
        current=current,
        is_text=text is not None,
        shown=shown,
        references=references,
        outgoing=outgoing,
        can_write=bool(vault and vault.can_write),
        editing=editing or edit is not None,
        edit=edit or EditState(path, text or "", "", [], skill.summary.content_hash),
        notice_text=NOTICES.get(request.query_params.get("done", ""), ""),
        csrf_token=session_csrf(request, view),
        skill_url=skill_url,
        file_url=file_url,
        download_url=_download_url,
        max_upload=svc.skills.limits.max_file_bytes,
    )


def _body_of(text: str) -> str:
    from better_skills.skillfmt.frontmatter import FrontmatterError, split_skill_md

    try:
        return split_skill_md(text)[1]
    except FrontmatterError:
        return text


def _outgoing(skill: Skill, targets: Any, texts: list[str]) -> list[dict[str, str]]:
    """The readable skills the skill's files mention (other than itself), by name."""
    out: dict[str, str] = {}
    for text in texts:
        for token in mentions.mentions(text):
            if token.kind == "skill" and token.target in targets.skills:
                out[token.target] = targets.skills[token.target]
            elif token.kind == "resource" and token.target in targets.files:
                found = targets.files[token.target]
                out[found.skill_id] = found.skill_name
    out.pop(skill.summary.id, None)
    return [{"id": k, "name": v} for k, v in sorted(out.items(), key=lambda kv: kv[1])]


def _download_url(skill_id: str, path: str) -> str:
    return f"{skill_url(skill_id)}/download?{urlencode({'file': path})}"


@router.get(SKILL_PAGE)
async def skill_page(request: Request, skill_id: str) -> Response:
    view = await session_or_login(request)
    if isinstance(view, Response):
        return view
    skill = await load_skill(request, view, skill_id)
    if skill is None:
        return skill_not_found(view)
    path = request.query_params.get("file") or SKILL_MD
    editing = request.query_params.get("edit") == "1"
    return await show_skill(request, view, skill, path=path, editing=editing)


@router.get(SKILL_PAGE + "/download")
async def download_file(request: Request, skill_id: str) -> Response:
    view = await session_or_login(request)
    if isinstance(view, Response):
        return view
    path = request.query_params.get("file") or SKILL_MD
    try:
        found = await services(request).skills.get_file(view.user.id, skill_id, path)
    except errors.NotFound:
        return skill_not_found(view)
    # Always an attachment of an opaque type: a stored .html or .svg must never run as a
    # page of this site.
    return Response(
        found.content,
        media_type="application/octet-stream",
        headers={**NO_STORE, "Content-Disposition": _attachment(path.rsplit("/", 1)[-1])},
    )


def _attachment(name: str) -> str:
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name)
    return f"attachment; filename=\"{ascii_name or 'file'}\"; filename*=UTF-8''{quote(name)}"


def _zip(skill: Skill) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in skill.files:
            info = zipfile.ZipInfo(f"{skill.summary.slug}/{f.path}")
            info.external_attr = (0o755 if f.kind == "script" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, f.content or b"")
    return buffer.getvalue()


@router.get(SKILL_PAGE + "/archive.zip")
async def download_archive(request: Request, skill_id: str) -> Response:
    view = await session_or_login(request)
    if isinstance(view, Response):
        return view
    skill = await load_skill(request, view, skill_id)
    if skill is None:
        return skill_not_found(view)
    data = await anyio.to_thread.run_sync(_zip, skill)
    return Response(
        data,
        media_type="application/zip",
        headers={**NO_STORE, "Content-Disposition": _attachment(f"{skill.summary.slug}.zip")},
    )
