"""Skills: every file of a skill folder, stored byte for byte, with its mention links.

Writes check the folder with ``skillfmt.rules.check_skill`` (everything that needs no
database), then, in one transaction, the database facts: the vault and the caller's role,
slug conflicts, same-vault mention targets. Drafts ``[[resource:new:<path>]]`` become
``[[resource:<id>]]`` in that transaction, so what is stored (and hashed) is resolved text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import posixpath
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from better_skills.protocol import errors
from better_skills.server.db import Database
from better_skills.server.queries import skills as q
from better_skills.server.queries import vaults as vault_queries
from better_skills.server.render.links import FileTarget, Targets
from better_skills.server.services import Clock, audit, to_ms
from better_skills.server.services.permissions import access
from better_skills.server.services.rate_limit import WriteLimits
from better_skills.server.services.vaults import Vault, VaultRef, find_member_vault
from better_skills.skillfmt import hashing, mentions, paths
from better_skills.skillfmt.frontmatter import parse_skill_md
from better_skills.skillfmt.rules import Limits, Problem, check_skill

SKILL_MD = "SKILL.md"
MAX_PAGE = 100
MAX_BUNDLE = 200
#: The most bytes of files one bundle answer holds; more skills than fit: ask for fewer.
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


# -- Records ---------------------------------------------------------------------------------


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


def clean_text(value: str) -> bool:
    """Text the databases can take: encodable as UTF-8 (no lone surrogate) and no NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\0" not in value


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


def _file_from_row(row: Any, content: bool) -> SkillFile:
    return SkillFile(
        row.id, row.path, row.kind, row.size, row.sha256, bytes(row.content) if content else None
    )


# -- The prepared write ----------------------------------------------------------------------


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


def _new_id(_path: str) -> str:
    return str(uuid.uuid4())


class SkillService:
    def __init__(
        self, db: Database, clock: Clock, limits: Limits, write_limits: WriteLimits | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self.limits = limits
        self._write_limits = write_limits

    async def _charge_write(self, user_id: str) -> None:
        """Count a create, update or delete against the account's write limit (before any
        work: refused and invalid attempts count too)."""
        if self._write_limits is not None:
            await self._write_limits.charge(user_id)

    # -- Reads -------------------------------------------------------------------------------

    async def list(
        self,
        user_id: str,
        *,
        q_text: str | None = None,
        vault: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SkillPage:
        after = decode_cursor(cursor) if cursor else None
        limit = max(1, min(MAX_PAGE, limit))
        if q_text is not None and not clean_text(q_text):
            raise errors.InvalidRequest("q must be text without NUL characters.")
        vault_id = None
        if vault:
            async with self._db.read() as conn:
                vault_id = (await find_member_vault(conn, user_id, vault)).id
        # Through the driver: the page is one statement, and SQLAlchemy's execution
        # machinery cost more CPU than SQLite spent on it.
        rows = await q.list_page(
            self._db.direct,
            user_id,
            vault_id=vault_id,
            q=(q_text or "").strip() or None,
            after=after,
            limit=limit + 1,
        )
        items = [summary_from_row(row) for row in rows[:limit]]
        more = len(rows) > limit
        last = items[-1] if items and more else None
        return SkillPage(items, encode_cursor(last.created_at, last.id) if last else None)

    async def _readable(self, conn: AsyncConnection, user_id: str, skill_id: str) -> Any:
        """The skill's row with the caller's role; 404 when it is missing or not readable."""
        try:
            uuid.UUID(skill_id)
        except ValueError:
            raise errors.NotFound("Skill not found.") from None
        row = await q.summary_for_member(conn, skill_id, user_id)
        if row is None or not access(row.vault_type, row.role).can_read:
            raise errors.NotFound("Skill not found.")
        return row

    async def get(self, user_id: str, skill_id: str, *, content: bool = False) -> Skill:
        try:
            uuid.UUID(skill_id)
        except ValueError:
            raise errors.NotFound("Skill not found.") from None
        # Through the driver, in one read snapshot (the summary and the files agree).
        async with self._db.direct.snapshot() as tx:
            row = await tx.first(q.SUMMARY_FOR_MEMBER, {"skill_id": skill_id, "user_id": user_id})
            if row is None or not access(row.vault_type, row.role).can_read:
                raise errors.NotFound("Skill not found.")
            file_rows = await tx.all(q.FILES_OF[content], {"skill_id": row.id})
        frontmatter = row.frontmatter
        if isinstance(frontmatter, str):  # the driver hands JSON columns over as text
            frontmatter = json.loads(frontmatter)
        return Skill(
            summary_from_row(row),
            dict(frontmatter or {}),
            [_file_from_row(f, content) for f in file_rows],
        )

    async def get_many(
        self, user_id: str, skill_ids: list[str], *, content: bool = False
    ) -> dict[str, Skill]:
        """:meth:`get` of several skills in one read (two statements, not two per skill):
        the readable ones by id; the others are left out, as :meth:`get` would refuse them."""
        wanted = list(dict.fromkeys(i.lower() for i in skill_ids if is_uuid(i)))
        if not wanted:
            return {}
        async with self._db.read() as conn:
            rows = [
                r
                for r in await q.summaries_for_member(conn, wanted, user_id)
                if access(r.vault_type, r.role).can_read
            ]
            file_rows = await q.files(conn, [r.id for r in rows], content=content)
        files: dict[str, list[SkillFile]] = {r.id: [] for r in rows}
        for f in file_rows:
            files[f.skill_id].append(_file_from_row(f, content))
        return {
            r.id: Skill(summary_from_row(r), dict(r.frontmatter or {}), files[r.id]) for r in rows
        }

    async def cursor_at(self, user_id: str, skill_id: str) -> str | None:
        """The list cursor that continues after this skill (the original CLI's cursors are
        skill ids), or None when the caller cannot read it."""
        if not is_uuid(skill_id):
            return None
        found = (await self.get_many(user_id, [skill_id])).get(skill_id.lower())
        if found is None:
            return None
        return encode_cursor(found.summary.created_at, found.summary.id)

    async def get_by_slug(
        self, user_id: str, slug: str, vault: str | None = None, *, content: bool = False
    ) -> Skill:
        slug = slug.strip().lower()
        if not clean_text(slug):
            raise errors.NotFound("Skill not found.")
        async with self._db.read() as conn:
            if vault:
                vault_ids = [(await find_member_vault(conn, user_id, vault)).id]
            else:
                vault_ids = await vault_queries.vault_ids(conn, user_id)
            rows = await q.ids_by_slug(conn, vault_ids, slug) if vault_ids else []
        if not rows:
            raise errors.NotFound("Skill not found.")
        if len(rows) > 1:
            raise errors.Conflict(
                f'Several skills are called "{slug}"; name the vault (?vault=).',
                details=[
                    {"path": f"{r.vault_slug}/{r.slug}", "message": r.vault_name} for r in rows
                ],
            )
        return await self.get(user_id, rows[0].id, content=content)

    async def get_file(self, user_id: str, skill_id: str, path: str) -> SkillFile:
        if not clean_text(path):
            raise errors.NotFound("File not found.")
        async with self._db.read() as conn:
            row = await self._readable(conn, user_id, skill_id)
            found = await q.file(conn, row.id, path)
        if found is None:
            raise errors.NotFound("File not found.")
        return _file_from_row(found, True)

    async def references(self, user_id: str, skill_id: str) -> list[Reference]:
        async with self._db.read() as conn:
            row = await self._readable(conn, user_id, skill_id)
            vault_ids = await vault_queries.vault_ids(conn, user_id)
            rows = await q.references(conn, row.id, vault_ids)
        return [Reference(summary_from_row(r), r.via_path) for r in rows]

    async def mention_targets(self, user_id: str, texts: list[str]) -> Targets:
        """What the mentions in ``texts`` point at, limited to the caller's vaults: a target
        elsewhere is left out, exactly like a missing one (its name must not leak)."""
        tokens: dict[str, set[str]] = {"skill": set(), "resource": set()}
        for text in texts:
            for token in mentions.mentions(text):
                tokens[token.kind].add(token.target)
        if not tokens["skill"] and not tokens["resource"]:
            return Targets()
        async with self._db.read() as conn:
            scope = set(await vault_queries.vault_ids(conn, user_id))
            skill_rows = await q.skill_targets(conn, tokens["skill"])
            file_rows = await q.file_targets(conn, tokens["resource"])
        return Targets(
            skills={k: r.name for k, r in skill_rows.items() if r.vault_id in scope},
            files={
                k: FileTarget(r.skill_id, r.name, r.path)
                for k, r in file_rows.items()
                if r.vault_id in scope
            },
        )

    async def manifest_etag(self, user_id: str, *, include_disabled: bool = False) -> str:
        """The manifest's ETag from the caller's memberships alone (no skill row is read): each
        vault's revision, which every skill write bumps, plus what else shapes the manifest."""
        rows = await vault_queries.manifest_validators(self._db.direct, user_id)
        digest = hashlib.sha256(b"manifest-v2\0all\n" if include_disabled else b"manifest-v2\n")
        for r in rows:
            fields = (r.id, str(r.revision), r.type, r.slug, r.name, r.role, str(bool(r.enabled)))
            digest.update(("\0".join(fields) + "\n").encode())
        return f'"{digest.hexdigest()}"'

    async def manifest(self, user_id: str, *, include_disabled: bool = False) -> Manifest:
        # The ETag is read before the rows: a write in between then gives the new rows under
        # the old ETag (the next request fetches them again), never old rows under a new one.
        etag = await self.manifest_etag(user_id, include_disabled=include_disabled)
        rows = await q.manifest(self._db.direct, user_id, include_disabled=include_disabled)
        refs: dict[str, VaultRef] = {}  # one per vault, not per row
        items = []
        for r in rows:
            ref = refs.get(r["vault_id"])
            if ref is None:
                ref = VaultRef(r["vault_id"], r["vault_slug"], r["vault_name"], r["vault_type"])
                refs[ref.id] = ref
            items.append(
                ManifestItem(
                    r["id"],
                    ref,
                    r["slug"],
                    r["name"],
                    r["description"],
                    r["content_hash"],
                    r["updated_at"],
                )
            )
        return Manifest(items, etag)

    async def bundle(self, user_id: str, ids: list[str]) -> list[BundleItem]:
        """The files of readable skills ready to install: mentions become relative links inside
        the installed store. Ids the caller cannot read are left out."""
        wanted = list(dict.fromkeys(i.lower() for i in ids if is_uuid(i)))
        async with self._db.read() as conn:
            vault_ids = set(await vault_queries.vault_ids(conn, user_id))
            skills = {
                s.id: s
                for s in (await q.skill_targets(conn, wanted)).values()
                if s.vault_id in vault_ids
            }
            if len(skills) > 1 and sum(s.size for s in skills.values()) > MAX_BUNDLE_BYTES:
                raise errors.ContentTooLarge(
                    f"These skills hold more than {MAX_BUNDLE_BYTES} bytes; ask for fewer at once."
                )
            file_rows = await q.files(conn, list(skills), content=True)
            tokens: dict[str, set[str]] = {"skill": set(), "resource": set()}
            for f in file_rows:
                if mentions.is_text(bytes(f.content)):
                    for token in mentions.mentions(bytes(f.content).decode("utf-8")):
                        tokens[token.kind].add(token.target)
            skill_labels = await q.skill_targets(conn, tokens["skill"])
            file_labels = await q.file_targets(conn, tokens["resource"])
        skill_labels = {k: v for k, v in skill_labels.items() if v.vault_id in vault_ids}
        file_labels = {k: v for k, v in file_labels.items() if v.vault_id in vault_ids}
        by_skill: dict[str, list[tuple[str, bytes]]] = {}
        for f in file_rows:
            skill = skills[f.skill_id]
            data = bytes(f.content)
            if mentions.is_text(data):
                renderer = _link_renderer(skill, f.path, skill_labels, file_labels)
                data = mentions.render(data.decode("utf-8"), renderer).encode("utf-8")
            by_skill.setdefault(f.skill_id, []).append((f.path, data))
        return [
            BundleItem(i, skills[i].content_hash, by_skill.get(i, []))
            for i in wanted
            if i in skills
        ]

    # -- Writes ------------------------------------------------------------------------------

    def prepare(self, upload: Upload, limits: Limits | None = None) -> Prepared:
        """Every rule that needs no database (skillfmt.rules), or 400 listing each problem."""
        details = list(upload.problems)
        details += [
            _detail(p)
            for p in check_skill(upload.files, limits or self.limits)
            if p.severity == "error"
        ]
        if details:
            raise errors.ValidationFailed(details=details)
        parsed = parse_skill_md(upload.files[SKILL_MD].decode("utf-8"))
        frontmatter = _json_safe(parsed.frontmatter)
        return Prepared(
            upload.files,
            str(frontmatter["name"]).strip(),
            str(frontmatter["description"]).strip(),
            frontmatter,
        )

    @staticmethod
    def choose_slug(slug: str | None, prepared: Prepared) -> str:
        chosen = paths.slugify(prepared.name) if slug is None else slug.strip()
        trouble = paths.check_slug(chosen)
        if trouble:
            raise errors.ValidationFailed(details=[problem("slug", trouble)])
        return chosen

    @staticmethod
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

    @staticmethod
    async def _link_rows(
        conn: AsyncConnection, vault_id: str, skill_id: str, resolved: Resolved
    ) -> list[dict[str, Any]]:
        """Mention edges of the resolved files; 400 unless every target is in ``vault_id``."""
        own_files = set(resolved.ids.values())
        skill_ids = {t.target for _, t in resolved.links if t.kind == "skill"} - {skill_id}
        file_ids = {t.target for _, t in resolved.links if t.kind == "resource"} - own_files
        skills = await q.skill_targets(conn, skill_ids)
        files = await q.file_targets(conn, file_ids)
        rows: list[dict[str, Any]] = []
        details: list[dict[str, Any]] = []
        for path, token in resolved.links:
            target: tuple[str, str | None] | None = None
            if token.kind == "skill":
                found = skills.get(token.target)
                if token.target == skill_id:
                    target = (skill_id, None)
                elif found is not None and found.vault_id == vault_id:
                    target = (found.id, None)
            elif token.target in own_files:
                target = (skill_id, token.target)
            else:
                found = files.get(token.target)
                # A file of this skill that the new file set drops is no target any more.
                if found is not None and found.vault_id == vault_id and found.skill_id != skill_id:
                    target = (found.skill_id, found.id)
            if target is None:
                details.append(
                    problem(
                        path,
                        f"Invalid mention target: [[{token.kind}:{token.target}]] is not a "
                        "skill or file of this vault.",
                        token.line,
                        "mention_target",
                    )
                )
                continue
            rows.append(
                {
                    "source_skill_id": skill_id,
                    "source_file_id": resolved.ids[path],
                    "target_skill_id": target[0],
                    "target_file_id": target[1],
                    "kind": "mention",
                }
            )
        if details:
            raise errors.ValidationFailed(details=details)
        return rows

    @staticmethod
    async def _writable_vault(conn: AsyncConnection, user_id: str, ref: str) -> Vault:
        vault = await find_member_vault(conn, user_id, ref)
        if not vault.can_write:
            raise errors.Forbidden(vault.read_only_reason or "You may not write to this vault.")
        return vault

    @staticmethod
    async def _refuse_taken_slug(
        conn: AsyncConnection, vault: Vault | VaultRef, slug: str, except_id: str = ""
    ) -> None:
        if await q.slug_taken(conn, vault.id, slug, except_id):
            raise errors.Conflict(
                f'The vault "{vault.slug}" already has a skill "{slug}".',
                details=[{"path": f"{vault.slug}/{slug}", "message": "This slug is taken."}],
            )

    async def _insert(
        self,
        conn: AsyncConnection,
        vault: Vault | VaultRef,
        skill_id: str,
        slug: str,
        prepared: Prepared,
        user_id: str | None,
        now: int,
        id_for: Callable[[str], str] = _new_id,
    ) -> None:
        await self._refuse_taken_slug(conn, vault, slug)
        resolved = self.resolve_drafts(prepared, {path: id_for(path) for path in prepared.files})
        links = await self._link_rows(conn, vault.id, skill_id, resolved)
        await q.insert_skill(
            conn,
            {
                "id": skill_id,
                "vault_id": vault.id,
                "slug": slug,
                "version": 1,
                "created_by": user_id,
                "created_at": now,
                **skill_columns(prepared, resolved, now),
            },
        )
        await q.insert_files(conn, skill_file_rows(skill_id, resolved, resolved.files, now))
        await q.replace_links(conn, skill_id, links)
        await vault_queries.bump_revision(conn, vault.id)

    async def _replace(
        self,
        conn: AsyncConnection,
        row: Any,
        vault_id: str,
        slug: str,
        prepared: Prepared,
        existing: Mapping[str, tuple[str, str]],
        resolved: Resolved,
        now: int,
    ) -> None:
        """Replace a stored skill's whole file set; 412 if another write got there first."""
        links = await self._link_rows(conn, vault_id, row.id, resolved)
        unchanged = (
            resolved.content_hash == row.content_hash
            and vault_id == row.vault_id
            and slug == row.slug
        )
        values = skill_columns(prepared, resolved, row.updated_at if unchanged else now)
        if not await q.update_skill(
            conn, row.id, row.version, {"vault_id": vault_id, "slug": slug, **values}
        ):
            raise errors.PreconditionFailed(
                "The skill changed while this update was being saved; read it again and retry."
            )
        await q.delete_files(
            conn, [fid for path, (fid, _) in existing.items() if path not in resolved.files]
        )
        for path, (file_id, sha) in existing.items():
            if path in resolved.files and sha != resolved.sha[path]:
                data = resolved.files[path]
                await q.update_file(
                    conn,
                    file_id,
                    {
                        "content": data,
                        "size": len(data),
                        "sha256": resolved.sha[path],
                        "kind": paths.file_kind(path),
                        "updated_at": now,
                    },
                )
        added = {p: d for p, d in resolved.files.items() if p not in existing}
        await q.insert_files(conn, skill_file_rows(row.id, resolved, added, now))
        await q.replace_links(conn, row.id, links)
        await vault_queries.bump_revision(conn, row.vault_id, vault_id)  # both ends of a move

    async def create(
        self,
        user_id: str,
        upload: Upload,
        *,
        vault: str | None = None,
        slug: str | None = None,
        ip: str | None = None,
    ) -> Skill:
        await self._charge_write(user_id)
        prepared = self.prepare(upload)
        slug = self.choose_slug(slug, prepared)
        skill_id = str(uuid.uuid4())
        now = to_ms(self._clock())
        try:
            async with self._db.write() as conn:
                target = await self._writable_vault(conn, user_id, vault or "personal")
                await self._insert(conn, target, skill_id, slug, prepared, user_id, now)
                await audit.record(
                    conn,
                    now,
                    "skill_create",
                    user_id=user_id,
                    ip=ip,
                    detail=f"skill {skill_id} vault {target.id} slug {slug}",
                )
        except IntegrityError:  # a racing writer took the slug between check and insert
            raise errors.Conflict(f'The vault already has a skill "{slug}".') from None
        return await self.get(user_id, skill_id)

    async def update(
        self,
        user_id: str,
        skill_id: str,
        upload: Upload,
        *,
        slug: str | None = None,
        vault: str | None = None,
        if_match: str | None = None,
        ip: str | None = None,
        renamed_ids: Mapping[str, str] | None = None,
    ) -> Skill:
        """Replace the whole file set (files not listed are deleted); ``vault`` moves it.
        ``renamed_ids`` (new path -> id of a file of this skill that the set drops) lets a
        renamed file keep its id, as the original's resource ids do (used by /trpc)."""
        await self._charge_write(user_id)
        prepared = self.prepare(upload)
        if slug is not None:
            slug = self.choose_slug(slug, prepared)
        now = to_ms(self._clock())
        try:
            async with self._db.write() as conn:
                row = await self._readable(conn, user_id, skill_id)
                rights = access(row.vault_type, row.role)
                if not rights.can_write:
                    raise errors.Forbidden(rights.read_only_reason)
                if if_match is not None and not matches_etag(if_match, row.content_hash):
                    raise errors.PreconditionFailed()
                target: Vault | VaultRef = VaultRef(
                    row.vault_id, row.vault_slug, row.vault_name, row.vault_type
                )
                if vault is not None:
                    target = await self._writable_vault(conn, user_id, vault)
                new_slug = slug or row.slug
                if (target.id, new_slug) != (row.vault_id, row.slug):
                    await self._refuse_taken_slug(conn, target, new_slug, row.id)
                existing = await q.file_ids(conn, row.id)
                dropped = {fid for p, (fid, _) in existing.items() if p not in prepared.files}
                kept = {p: i for p, i in (renamed_ids or {}).items() if i in dropped}
                ids = {
                    path: existing[path][0] if path in existing else kept.get(path, _new_id(path))
                    for path in prepared.files
                }
                resolved = self.resolve_drafts(prepared, ids)
                await self._replace(
                    conn, row, target.id, new_slug, prepared, existing, resolved, now
                )
                await audit.record(
                    conn,
                    now,
                    "skill_update",
                    user_id=user_id,
                    ip=ip,
                    detail=f"skill {row.id} hash {resolved.content_hash}",
                )
                if target.id != row.vault_id:
                    await audit.record(
                        conn,
                        now,
                        "skill_move",
                        user_id=user_id,
                        ip=ip,
                        detail=f"skill {row.id} vault {row.vault_id} -> {target.id}",
                    )
        except IntegrityError:
            raise errors.Conflict("The skill conflicts with a concurrent change; retry.") from None
        return await self.get(user_id, row.id)

    async def delete(
        self, user_id: str, skill_id: str, *, if_match: str | None = None, ip: str | None = None
    ) -> None:
        await self._charge_write(user_id)
        now = to_ms(self._clock())
        async with self._db.write() as conn:
            row = await self._readable(conn, user_id, skill_id)
            rights = access(row.vault_type, row.role)
            if not rights.can_write:
                raise errors.Forbidden(rights.read_only_reason)
            if if_match is not None and not matches_etag(if_match, row.content_hash):
                raise errors.PreconditionFailed()
            if not await q.delete_skill(conn, row.id, row.version):
                raise errors.PreconditionFailed("The skill changed while it was being deleted.")
            await vault_queries.bump_revision(conn, row.vault_id)
            await audit.record(
                conn,
                now,
                "skill_delete",
                user_id=user_id,
                ip=ip,
                detail=f"skill {row.id} vault {row.vault_id} slug {row.slug}",
            )

    async def seed(self, vault: VaultRef, slug: str, files: dict[str, bytes]) -> str:
        """Install or refresh a shipped skill in ``vault`` (no permission check: the server
        itself writes). Ids are derived from the slug and paths, so the stored content hash
        equals the template's resolved hash exactly when nothing changed. Returns
        ``"created"``, ``"updated"`` or ``"unchanged"``."""
        # The server's own skills are held to the format's default limits, not to the
        # (possibly smaller) limits this server sets for uploads.
        prepared = self.prepare(Upload(files), Limits())

        def id_for(path: str) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"better-skills:{vault.id}:{slug}:{path}"))

        skill_id = id_for("")
        now = to_ms(self._clock())
        async with self._db.write() as conn:
            row = await q.summary_for_member_any(conn, vault.id, slug)
            if row is None:
                await self._insert(conn, vault, skill_id, slug, prepared, None, now, id_for)
                outcome = "created"
            else:
                existing = await q.file_ids(conn, row.id)
                ids = {p: existing[p][0] if p in existing else id_for(p) for p in prepared.files}
                resolved = self.resolve_drafts(prepared, ids)
                if resolved.content_hash == row.content_hash:
                    return "unchanged"
                await self._replace(conn, row, vault.id, slug, prepared, existing, resolved, now)
                outcome = "updated"
            await audit.record(
                conn,
                now,
                f"skill_{'create' if outcome == 'created' else 'update'}",
                detail=f"default skill {slug} in vault {vault.id}",
            )
        return outcome


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


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _markdown_target(path: str) -> str:
    return f"<{path}>" if any(c in path for c in " ()<>") else path


def _link_renderer(
    skill: Any,
    source_path: str,
    skills: Mapping[str, Any],
    files: Mapping[str, Any],
) -> Callable[[mentions.Token], str | None]:
    """Renders a mention in ``source_path`` of ``skill`` as a link relative to that file inside
    the installed store, where every skill is a folder named by its install key."""
    here = posixpath.dirname(f"{paths.install_key(skill.vault_slug, skill.slug)}/{source_path}")

    def label(token: mentions.Token) -> str | None:
        if token.draft:
            return None
        if token.kind == "skill":
            target = skills.get(token.target)
            if target is None:
                return "`(unknown skill)`"
            text = target.name
            where = f"{paths.install_key(target.vault_slug, target.slug)}/{SKILL_MD}"
        else:
            target = files.get(token.target)
            if target is None:
                return "`(unknown resource)`"
            text = target.path if target.skill_id == skill.id else f"{target.name}: {target.path}"
            where = f"{paths.install_key(target.vault_slug, target.slug)}/{target.path}"
        text = text.replace("[", "\\[").replace("]", "\\]")
        return f"[{text}]({_markdown_target(posixpath.relpath(where, here))})"

    return label


def limits_of(max_file_bytes: int, max_skill_bytes: int, max_files: int) -> Limits:
    return Limits(
        max_file_bytes=max_file_bytes, max_skill_bytes=max_skill_bytes, max_files=max_files
    )
