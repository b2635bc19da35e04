"""Reading skills: pages, one skill (by id or slug), several at once, a file, who mentions a
skill, and what mentions point at. The class also holds what every part of the skill service
shares (the database, the clock, the limits)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from better_skills.protocol import errors
from better_skills.server.db import Database
from better_skills.server.direct import Tx
from better_skills.server.queries import skills as q
from better_skills.server.queries import vaults as vault_queries
from better_skills.server.render.links import FileTarget, Targets
from better_skills.server.services import Clock
from better_skills.server.services.permissions import access
from better_skills.server.services.rate_limit import WriteLimits
from better_skills.server.services.skills.records import (
    MAX_PAGE,
    Reference,
    Skill,
    SkillFile,
    SkillPage,
    clean_text,
    decode_cursor,
    encode_cursor,
    file_from_row,
    is_uuid,
    summary_from_row,
)
from better_skills.server.services.vaults import find_member_vault
from better_skills.skillfmt import mentions
from better_skills.skillfmt.rules import Limits


class SkillReads:
    """Reading skills, their files and what their mentions point at."""

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
            async with self._db.read() as tx:
                vault_id = (await find_member_vault(tx, user_id, vault)).id
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

    async def _readable(self, tx: Tx, user_id: str, skill_id: str) -> Any:
        """The skill's row with the caller's role; 404 when it is missing or not readable."""
        try:
            uuid.UUID(skill_id)
        except ValueError:
            raise errors.NotFound("Skill not found.") from None
        row = await q.summary_for_member(tx, skill_id, user_id)
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
            [file_from_row(f, content) for f in file_rows],
        )

    async def get_many(
        self, user_id: str, skill_ids: list[str], *, content: bool = False
    ) -> dict[str, Skill]:
        """:meth:`get` of several skills in one read (two statements, not two per skill):
        the readable ones by id; the others are left out, as :meth:`get` would refuse them."""
        wanted = list(dict.fromkeys(i.lower() for i in skill_ids if is_uuid(i)))
        if not wanted:
            return {}
        async with self._db.read() as tx:
            rows = [
                r
                for r in await q.summaries_for_member(tx, wanted, user_id)
                if access(r.vault_type, r.role).can_read
            ]
            file_rows = await q.files(tx, [r.id for r in rows], content=content)
        files: dict[str, list[SkillFile]] = {r.id: [] for r in rows}
        for f in file_rows:
            files[f.skill_id].append(file_from_row(f, content))
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
        async with self._db.read() as tx:
            if vault:
                vault_ids = [(await find_member_vault(tx, user_id, vault)).id]
            else:
                vault_ids = await vault_queries.vault_ids(tx, user_id)
            rows = await q.ids_by_slug(tx, vault_ids, slug) if vault_ids else []
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
        async with self._db.read() as tx:
            row = await self._readable(tx, user_id, skill_id)
            found = await q.file(tx, row.id, path)
        if found is None:
            raise errors.NotFound("File not found.")
        return file_from_row(found, True)

    async def references(self, user_id: str, skill_id: str) -> list[Reference]:
        async with self._db.read() as tx:
            row = await self._readable(tx, user_id, skill_id)
            vault_ids = await vault_queries.vault_ids(tx, user_id)
            rows = await q.references(tx, row.id, vault_ids)
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
        async with self._db.read() as tx:
            scope = set(await vault_queries.vault_ids(tx, user_id))
            skill_rows = await q.skill_targets(tx, tokens["skill"])
            file_rows = await q.file_targets(tx, tokens["resource"])
        return Targets(
            skills={k: r.name for k, r in skill_rows.items() if r.vault_id in scope},
            files={
                k: FileTarget(r.skill_id, r.name, r.path)
                for k, r in file_rows.items()
                if r.vault_id in scope
            },
        )
