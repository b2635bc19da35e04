"""The web console: the welcome page, the vault (skills, search, switches), a skill's page
(rendered files, references, download, edit, upload) and the graphs.

Every read goes through the services the API uses, so the permission rules are theirs: a skill
the viewer cannot read is a 404 page. Edits call ``SkillService.update`` with the skill's etag
as If-Match, so a stale form is refused and the text the person typed is shown back.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import anyio.to_thread
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.server.dependencies import caller, services
from better_skills.server.http import NO_STORE, origin_is_trusted
from better_skills.server.principal import Principal
from better_skills.server.render import link_mentions, render_markdown
from better_skills.server.render.code import highlight_file
from better_skills.server.render.graph_svg import DrawNode, draw
from better_skills.server.render.links import file_url, skill_url
from better_skills.server.routers.pages._forms import (
    Form,
    form_post,
    login_url,
    page_session,
    session_csrf,
    session_csrf_ok,
)
from better_skills.server.routers.pages._render import (
    cross_site_refused,
    csrf_refused,
    error_page,
    redirect,
    render,
)
from better_skills.server.services import search as search_service
from better_skills.server.services.graph import Graph
from better_skills.server.services.sessions import SessionView
from better_skills.server.services.skills import SKILL_MD, Skill, SkillFile, Upload
from better_skills.server.services.vaults import Vault
from better_skills.skillfmt import hashing, mentions

router = APIRouter()

WELCOME_PAGE = "/welcome"
VAULT_PAGE = "/vault"
GRAPH_PAGE = "/vault/graph"
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")
#: The most skills the vault page lists at once (then a "more" link).
PAGE_SIZE = 100
#: Room for the form's other fields around a file's bytes.
FORM_SLACK = 64 * 1024
NOTICES = {
    "saved": "Saved. The next sync brings the change to your agents.",
    "uploaded": "File uploaded.",
}


# -- Helpers ---------------------------------------------------------------------------------


def _principal(view: SessionView) -> Principal:
    return Principal(view.user["id"], view.session["id"], "cookie")


def _not_found(view: SessionView) -> Response:
    return error_page(
        view.user,
        404,
        "Skill not found",
        "There is no such skill, or it is in a vault you are not a member of.",
        link=(VAULT_PAGE, "Back to your vault"),
    )


def _is_markdown(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def _text(data: bytes | None) -> str | None:
    return data.decode("utf-8") if data is not None and mentions.is_text(data) else None


async def _session_or_login(request: Request) -> SessionView | Response:
    view = await page_session(request)
    if view is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(login_url(target))
    return view


def _vault_groups(vaults: list[Vault]) -> dict[str, int]:
    """A colour class per vault, by its place in the viewer's list."""
    return {v.id: i for i, v in enumerate(vaults)}


# -- Welcome ---------------------------------------------------------------------------------


@router.get(WELCOME_PAGE)
async def welcome(request: Request) -> Response:
    view = await _session_or_login(request)
    if isinstance(view, Response):
        return view
    server = services(request).settings.public_url.rstrip("/")
    return render("welcome.html", user=view.user, server=server)


# -- The vault -------------------------------------------------------------------------------


@router.get(VAULT_PAGE)
async def vault_page(request: Request) -> Response:
    view = await _session_or_login(request)
    if isinstance(view, Response):
        return view
    svc = services(request)
    user_id = view.user["id"]
    vaults = await svc.vaults.list_for(user_id)
    query = (request.query_params.get("q") or "").strip()
    vault_ref = request.query_params.get("vault") or ""
    chosen = next((v for v in vaults if vault_ref in (v.id, v.slug)), None)
    error = ""
    skills: list[Any] = []
    total = 0
    next_cursor = None
    if query:
        try:
            parsed = search_service.parse_query(query)
            hits, total = await search_service.search(
                svc.db, _principal(view), parsed, search_service.MAX_LIMIT
            )
            skills = [
                {"summary": h.summary, "snippet": h.snippet, "match": h.match}
                for h in hits
                if chosen is None or h.summary.vault.id == chosen.id
            ]
            if chosen is not None:  # the count of all hits is over every vault
                total = len(skills)
        except errors.InvalidRequest as exc:
            error = exc.description
    else:
        cursor = request.query_params.get("cursor") or None
        try:
            page = await svc.skills.list(
                user_id, vault=chosen.id if chosen else None, limit=PAGE_SIZE, cursor=cursor
            )
        except errors.InvalidRequest:
            page = await svc.skills.list(user_id, vault=chosen.id if chosen else None)
        skills = [{"summary": s, "snippet": None, "match": None} for s in page.items]
        next_cursor = page.next_cursor
        total = chosen.skill_count if chosen else sum(v.skill_count for v in vaults)
    more_url = (
        f"{VAULT_PAGE}?{urlencode({'vault': chosen.slug if chosen else '', 'cursor': next_cursor})}"
        if next_cursor
        else None
    )
    return render(
        "vault.html",
        user=view.user,
        vaults=vaults,
        groups=_vault_groups(vaults),
        chosen=chosen,
        query=query,
        skills=skills,
        total=total,
        error=error,
        more_url=more_url,
        csrf_token=session_csrf(request, view),
        skill_url=skill_url,
    )


@router.post("/vault/vaults/{vault_id}/enabled")
async def set_vault_enabled(request: Request, vault_id: str) -> Response:
    form = await form_post(request, ["enabled", "next"])
    if not isinstance(form, Form):
        return form
    if form.view is None:
        return redirect(login_url(VAULT_PAGE))
    enabled = form.params.get("enabled") == "1"
    try:
        await services(request).vaults.set_enabled(form.view.user["id"], vault_id, enabled)
    except errors.NotFound:
        return error_page(
            form.view.user, 404, "Vault not found", "You are not a member of that vault."
        )
    return redirect(VAULT_PAGE)


# -- One skill -------------------------------------------------------------------------------


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


async def _show(
    request: Request,
    view: SessionView,
    skill: Skill,
    *,
    path: str,
    edit: EditState | None = None,
    editing: bool = False,
    status: int = 200,
) -> Response:
    svc = services(request)
    user_id = view.user["id"]
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


async def _load(request: Request, view: SessionView, skill_id: str) -> Skill | None:
    try:
        return await services(request).skills.get(view.user["id"], skill_id, content=True)
    except errors.NotFound:
        return None


@router.get("/vault/skills/{skill_id}")
async def skill_page(request: Request, skill_id: str) -> Response:
    view = await _session_or_login(request)
    if isinstance(view, Response):
        return view
    skill = await _load(request, view, skill_id)
    if skill is None:
        return _not_found(view)
    path = request.query_params.get("file") or SKILL_MD
    editing = request.query_params.get("edit") == "1"
    return await _show(request, view, skill, path=path, editing=editing)


@router.get("/vault/skills/{skill_id}/download")
async def download_file(request: Request, skill_id: str) -> Response:
    view = await _session_or_login(request)
    if isinstance(view, Response):
        return view
    path = request.query_params.get("file") or SKILL_MD
    try:
        found = await services(request).skills.get_file(view.user["id"], skill_id, path)
    except errors.NotFound:
        return _not_found(view)
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


@router.get("/vault/skills/{skill_id}/archive.zip")
async def download_archive(request: Request, skill_id: str) -> Response:
    view = await _session_or_login(request)
    if isinstance(view, Response):
        return view
    skill = await _load(request, view, skill_id)
    if skill is None:
        return _not_found(view)
    data = await anyio.to_thread.run_sync(_zip, skill)
    return Response(
        data,
        media_type="application/zip",
        headers={**NO_STORE, "Content-Disposition": _attachment(f"{skill.summary.slug}.zip")},
    )


# -- Edits -----------------------------------------------------------------------------------


async def _big_form(
    request: Request, max_bytes: int
) -> tuple[SessionView, dict[str, str], UploadFile | None] | Response:
    """The guard of the edit and upload forms (bodies larger than other forms'): origin,
    size, session, CSRF. Fields as text, and the one uploaded file if any."""
    if not origin_is_trusted(request, services(request).settings):
        return cross_site_refused()
    view = await page_session(request)
    if view is None:
        return redirect(login_url(VAULT_PAGE))
    declared = request.headers.get("content-length", "")
    too_big = error_page(
        view.user,
        413,
        "Too large",
        f"The form is larger than {max_bytes} bytes, this server's limit for one file.",
    )
    if declared and (not declared.isdigit() or int(declared) > max_bytes + FORM_SLACK):
        return too_big
    try:
        form = await request.form(max_files=1, max_fields=20, max_part_size=max_bytes + 1024)
    except (HTTPException, MultiPartException, ValueError):  # a malformed or oversized body
        return error_page(view.user, 400, "Could not read the form", "The form was malformed.")
    fields: dict[str, str] = {}
    upload: UploadFile | None = None
    for key, value in form.multi_items():
        if isinstance(value, str):
            if "\0" in value:
                return error_page(view.user, 400, "Could not read the form", "NUL in a field.")
            fields[key] = value
        elif isinstance(value, UploadFile) and key == "file":
            upload = value
    if not session_csrf_ok(request, view, fields.get("csrf_token")):
        return csrf_refused(view)
    return view, fields, upload


async def _refuse_read_only(request: Request, view: SessionView, skill: Skill) -> Response | None:
    """A 403 page for a member who may only read (the service would say so too, but only
    after checking the files)."""
    vault = await services(request).vaults.get_for(view.user["id"], skill.summary.vault.id)
    if vault.can_write:
        return None
    return error_page(
        view.user,
        403,
        "Read only",
        vault.read_only_reason or "You may not change skills in this vault.",
        link=(skill_url(skill.summary.id), "Back to the skill"),
    )


def _files_of(skill: Skill) -> dict[str, bytes]:
    return {f.path: f.content or b"" for f in skill.files}


async def _save(
    request: Request,
    view: SessionView,
    skill: Skill,
    files: dict[str, bytes],
    content_hash: str,
) -> errors.OAuthError | None:
    try:
        await services(request).skills.update(
            view.user["id"],
            skill.summary.id,
            Upload(files),
            if_match=hashing.etag(content_hash) if content_hash else None,
            ip=caller(request).ip,
        )
    except (
        errors.ValidationFailed,
        errors.PreconditionFailed,
        errors.Forbidden,
        errors.Conflict,
        errors.ContentTooLarge,
    ) as exc:
        return exc
    return None


def _message(exc: errors.OAuthError) -> str:
    if isinstance(exc, errors.PreconditionFailed):
        return (
            "Someone changed this skill after you opened the editor, so your edit was not "
            "saved. Your text is below: copy it, open the skill again, and apply your change "
            "to the new version."
        )
    if isinstance(exc, errors.ValidationFailed):
        return "The skill was not saved: fix the problems listed below."
    return f"The skill was not saved: {exc.description}"


def _status_of(failure: errors.OAuthError) -> int:
    """A stale edit is a conflict for the person (409), whatever the API calls it (412)."""
    return 409 if isinstance(failure, errors.PreconditionFailed) else failure.status_code


async def _writable(
    request: Request, skill_id: str
) -> tuple[SessionView, dict[str, str], UploadFile | None, Skill] | Response:
    """The common start of the edit and upload forms: the form guard, then the skill, which
    the caller must be able to write (404 for a non-reader, 403 for a reader)."""
    guarded = await _big_form(request, services(request).skills.limits.max_file_bytes)
    if isinstance(guarded, Response):
        return guarded
    view, fields, upload = guarded
    skill = await _load(request, view, skill_id)
    if skill is None:
        return _not_found(view)
    refused = await _refuse_read_only(request, view, skill)
    if refused is not None:
        return refused
    return view, fields, upload, skill


@router.post("/vault/skills/{skill_id}/edit")
async def edit_file(request: Request, skill_id: str) -> Response:
    writable = await _writable(request, skill_id)
    if isinstance(writable, Response):
        return writable
    view, fields, _, skill = writable
    path = fields.get("path") or SKILL_MD
    text = fields.get("content", "")
    content_hash = fields.get("content_hash", "")
    files = _files_of(skill)
    old = files.get(path)
    if old is None or not mentions.is_text(old):
        return error_page(view.user, 404, "File not found", "This skill has no such text file.")
    if b"\r\n" not in old:
        # Browsers send a textarea's lines with CRLF; keep the file's own line endings.
        text = text.replace("\r\n", "\n")
    files[path] = text.encode("utf-8", "surrogatepass")
    failure = await _save(request, view, skill, files, content_hash)
    if failure is None:
        return redirect(f"{file_url(skill.summary.id, path)}&done=saved")
    state = EditState(path, text, _message(failure), list(failure.details or []), content_hash)
    return await _show(request, view, skill, path=path, edit=state, status=_status_of(failure))


@router.post("/vault/skills/{skill_id}/upload")
async def upload_file(request: Request, skill_id: str) -> Response:
    writable = await _writable(request, skill_id)
    if isinstance(writable, Response):
        return writable
    view, fields, upload, skill = writable
    limit = services(request).skills.limits.max_file_bytes
    if upload is None or not upload.filename:
        return error_page(view.user, 400, "No file", "Choose a file to upload.")
    data = await upload.read(limit + 1)
    folder = (fields.get("folder") or "").strip().strip("/")
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    path = f"{folder}/{name}" if folder else name
    files = _files_of(skill)
    files[path] = data
    failure = await _save(request, view, skill, files, fields.get("content_hash", ""))
    if failure is None:
        return redirect(f"{file_url(skill.summary.id, path)}&done=uploaded")
    details = list(failure.details or [])
    problems = "; ".join(f"{d.get('path') or ''}: {d.get('message')}" for d in details)
    return error_page(
        view.user,
        _status_of(failure),
        "Upload refused",
        f"{_message(failure)} {problems}".strip(),
        link=(skill_url(skill.summary.id), "Back to the skill"),
    )


# -- Graphs ----------------------------------------------------------------------------------


def _drawing(graph: Graph, groups: dict[str, int], current: str | None, label: str) -> Any:
    nodes = [
        DrawNode(
            n.id,
            n.label,
            skill_url(n.id),
            f"{n.label} ({n.vault.name})" + (f": {n.description}" if n.description else ""),
            groups.get(n.vault.id, 0),
            n.id == current,
        )
        for n in graph.skills()
    ]
    return draw(nodes, graph.skill_edges(), label=label)


@router.get(GRAPH_PAGE)
async def vault_graph(request: Request) -> Response:
    view = await _session_or_login(request)
    if isinstance(view, Response):
        return view
    svc = services(request)
    vaults = await svc.vaults.list_for(view.user["id"])
    vault_ref = request.query_params.get("vault") or ""
    chosen = next((v for v in vaults if vault_ref in (v.id, v.slug)), None)
    graph = await svc.graph.vault_graph(view.user["id"], chosen.id if chosen else None)
    drawing = await anyio.to_thread.run_sync(
        _drawing, graph, _vault_groups(vaults), None, "Skills and their mentions"
    )
    return render(
        "graph.html",
        user=view.user,
        vaults=vaults,
        groups=_vault_groups(vaults),
        chosen=chosen,
        skill=None,
        depth=None,
        drawing=drawing,
        edges=len(graph.skill_edges()),
    )


@router.get("/vault/skills/{skill_id}/graph")
async def skill_graph(request: Request, skill_id: str) -> Response:
    view = await _session_or_login(request)
    if isinstance(view, Response):
        return view
    svc = services(request)
    skill = await _load(request, view, skill_id)
    if skill is None:
        return _not_found(view)
    depth = 2 if request.query_params.get("depth") == "2" else 1
    vaults = await svc.vaults.list_for(view.user["id"])
    graph = await svc.graph.around(view.user["id"], skill.summary.id, depth)
    drawing = await anyio.to_thread.run_sync(
        _drawing,
        graph,
        _vault_groups(vaults),
        skill.summary.id,
        f"Skills around {skill.summary.name}",
    )
    return render(
        "graph.html",
        user=view.user,
        vaults=vaults,
        groups=_vault_groups(vaults),
        chosen=None,
        skill=skill.summary,
        depth=depth,
        drawing=drawing,
        edges=len(graph.skill_edges()),
    )
