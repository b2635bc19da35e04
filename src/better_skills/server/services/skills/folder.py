"""A skill folder as uploaded: decoding it from the wire, every rule that needs no database
(``skillfmt.rules``), and draft mentions ``[[resource:new:<path>]]`` resolved to file ids."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from better_skills.protocol import errors
from better_skills.server.services.skills.records import SKILL_MD
from better_skills.skillfmt import hashing, mentions, paths
from better_skills.skillfmt.frontmatter import parse_skill_md
from better_skills.skillfmt.rules import Limits, Problem, check_skill_frontmatter


@dataclass
class Upload:
    """A folder as a client sent it: ``files`` by path, and the problems of decoding it."""

    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_wire(cls, entries: list[tuple[str, str | None, str | None]]) -> Upload:
        """``(path, content, content_base64)`` triples; exactly one of the two is given."""
        upload = cls()
        for path, text, encoded in entries:
            if path in upload.files:
                upload.problems.append(problem(path, "The path appears more than once."))
                continue
            if (text is None) == (encoded is None):
                upload.problems.append(problem(path, "Give either content or content_base64."))
                continue
            if text is not None:
                try:
                    upload.files[path] = text.encode("utf-8")
                except UnicodeEncodeError:
                    upload.problems.append(problem(path, "content is not valid Unicode text."))
                continue
            try:
                upload.files[path] = base64.b64decode(encoded or "", validate=True)
            except (binascii.Error, ValueError):
                upload.problems.append(problem(path, "content_base64 is not valid base64."))
        return upload


def _printable(value: str) -> str:
    """Lone surrogates (possible in JSON) as escapes, so the error answer can be encoded."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def problem(path: str | None, message: str, line: int | None = None, code: str = "") -> dict:
    detail: dict[str, Any] = {
        "path": None if path is None else _printable(path),
        "message": _printable(message),
    }
    if line is not None:
        detail["line"] = line
    if code:
        detail["code"] = code
    return detail


def _detail(p: Problem) -> dict[str, Any]:
    return problem(p.path, p.message, p.line, p.code)


def _json_safe(value: Any) -> Any:
    """YAML can hold dates and other values JSON cannot: store them as strings."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class Prepared:
    """A folder that passed every rule needing no database."""

    files: dict[str, bytes]
    name: str
    description: str
    frontmatter: dict[str, Any]


@dataclass
class Resolved:
    """A prepared folder with file ids chosen and drafts resolved: ready to store."""

    files: dict[str, bytes]
    ids: dict[str, str]  # path -> file id
    sha: dict[str, str]  # path -> sha256
    content_hash: str
    links: list[tuple[str, mentions.Token]]  # (source path, persisted mention)
    size: int


def new_id(_path: str) -> str:
    return str(uuid.uuid4())


def prepare(upload: Upload, limits: Limits) -> Prepared:
    """Every rule that needs no database (skillfmt.rules), or 400 listing each problem."""
    details = list(upload.problems)
    problems, parsed = check_skill_frontmatter(upload.files, limits)
    details += [_detail(p) for p in problems if p.severity == "error"]
    if details:
        raise errors.ValidationFailed(details=details)
    if parsed is None:  # no error means a usable SKILL.md; parse it if the rules did not
        parsed = parse_skill_md(upload.files[SKILL_MD].decode("utf-8")).frontmatter
    frontmatter = _json_safe(parsed)
    return Prepared(
        upload.files,
        str(frontmatter["name"]).strip(),
        str(frontmatter["description"]).strip(),
        frontmatter,
    )


def choose_slug(slug: str | None, prepared: Prepared) -> str:
    chosen = paths.slugify(prepared.name) if slug is None else slug.strip()
    trouble = paths.check_slug(chosen)
    if trouble:
        raise errors.ValidationFailed(details=[problem("slug", trouble)])
    return chosen


def resolve_drafts(prepared: Prepared, ids: dict[str, str]) -> Resolved:
    """Drafts ``[[resource:new:<path>]]`` become ``[[resource:<id>]]``; text that has no
    draft keeps its bytes exactly."""
    by_path = {paths.nfc(path): file_id for path, file_id in ids.items()}
    unresolved: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    links: list[tuple[str, mentions.Token]] = []
    for path, data in prepared.files.items():
        if mentions.is_text(data):
            text = data.decode("utf-8")

            def draft(token: mentions.Token, path: str = path) -> str | None:
                if not token.draft:
                    return None
                file_id = by_path.get(paths.nfc(token.target))
                if file_id is None:
                    unresolved.append(
                        problem(path, f"No file {token.target!r} in this skill.", token.line)
                    )
                    return None
                return f"[[resource:{file_id}]]"

            resolved = mentions.replace(text, draft)
            if resolved != text:
                data = resolved.encode("utf-8")
            links += [(path, token) for token in mentions.mentions(resolved)]
        files[path] = data
    if unresolved:
        raise errors.ValidationFailed(details=unresolved)
    sha = {path: hashing.file_sha256(data) for path, data in files.items()}
    return Resolved(
        files=files,
        ids=ids,
        sha=sha,
        content_hash=hashing.content_hash(sha.items()),
        links=links,
        size=sum(len(data) for data in files.values()),
    )


def skill_columns(prepared: Prepared, resolved: Resolved, updated_at: int) -> dict[str, Any]:
    return {
        "name": prepared.name,
        "description": prepared.description,
        "frontmatter": prepared.frontmatter,
        "content_hash": resolved.content_hash,
        "file_count": len(resolved.files),
        "size": resolved.size,
        "updated_at": updated_at,
    }


def new_skill_row(
    skill_id: str,
    vault_id: str,
    slug: str,
    created_by: str | None,
    now: int,
    prepared: Prepared,
    resolved: Resolved,
) -> dict[str, Any]:
    """A new skill's row: version 1, made and last changed ``now``."""
    return {
        "id": skill_id,
        "vault_id": vault_id,
        "slug": slug,
        "version": 1,
        "created_by": created_by,
        "created_at": now,
        **skill_columns(prepared, resolved, now),
    }


def skill_file_rows(
    skill_id: str, resolved: Resolved, files: Mapping[str, bytes], now: int
) -> list[dict[str, Any]]:
    return [
        {
            "id": resolved.ids[path],
            "skill_id": skill_id,
            "path": path,
            "kind": paths.file_kind(path),
            "size": len(data),
            "sha256": resolved.sha[path],
            "content": data,
            "created_at": now,
            "updated_at": now,
        }
        for path, data in files.items()
    ]


def limits_of(max_file_bytes: int, max_skill_bytes: int, max_files: int) -> Limits:
    return Limits(
        max_file_bytes=max_file_bytes, max_skill_bytes=max_skill_bytes, max_files=max_files
    )
