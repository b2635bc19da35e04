"""The web console's edit and upload forms on a skill's page.

Both post multipart bodies larger than other forms', so they have their own guard (origin,
size, session, CSRF). Edits call ``SkillService.update`` with the skill's etag as If-Match,
so a stale form is refused and the text the person typed is shown back.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from better_skills.protocol import errors
from better_skills.server.dependencies import caller, services
from better_skills.server.http import origin_is_trusted
from better_skills.server.render.links import SKILL_PAGE, file_url, skill_url
from better_skills.server.routers.pages._console import VAULT_PAGE, load_skill, skill_not_found
from better_skills.server.routers.pages._forms import login_url, page_session, session_csrf_ok
from better_skills.server.routers.pages._render import (
    cross_site_refused,
    csrf_refused,
    error_page,
    redirect,
)
from better_skills.server.routers.pages.skill import EditState, show_skill
from better_skills.server.services.sessions import SessionView
from better_skills.server.services.skills import SKILL_MD, Skill, Upload
from better_skills.skillfmt import hashing, mentions

router = APIRouter()

#: Room for the form's other fields around a file's bytes.
FORM_SLACK = 64 * 1024


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
    vault = await services(request).vaults.get_for(view.user.id, skill.summary.vault.id)
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
            view.user.id,
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
    skill = await load_skill(request, view, skill_id)
    if skill is None:
        return skill_not_found(view)
    refused = await _refuse_read_only(request, view, skill)
    if refused is not None:
        return refused
    return view, fields, upload, skill


@router.post(SKILL_PAGE + "/edit")
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
    return await show_skill(request, view, skill, path=path, edit=state, status=_status_of(failure))


@router.post(SKILL_PAGE + "/upload")
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
