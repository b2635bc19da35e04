"""Writing skills: create, update (replace the file set, move, rename), delete, and the
server's own seeding of shipped skills. Each is one transaction that checks the database
facts (the vault and the caller's role, slug conflicts, same-vault mention targets)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from better_skills.protocol import errors
from better_skills.server.db import HEAVY_WRITE_BYTES
from better_skills.server.direct import Conflict, Tx
from better_skills.server.queries import skill_writes
from better_skills.server.queries import skills as q
from better_skills.server.queries import vaults as vault_queries
from better_skills.server.services import audit, to_ms
from better_skills.server.services.permissions import access
from better_skills.server.services.skills import folder
from better_skills.server.services.skills.folder import (
    Prepared,
    Resolved,
    Upload,
    new_id,
    new_skill_row,
    skill_columns,
    skill_file_rows,
)
from better_skills.server.services.skills.links import link_rows
from better_skills.server.services.skills.reads import SkillReads
from better_skills.server.services.skills.records import (
    Skill,
    SkillFile,
    SkillSummary,
    matches_etag,
)
from better_skills.server.services.vaults import Vault, VaultRef, find_vault_to_write
from better_skills.skillfmt import paths
from better_skills.skillfmt.rules import Limits


def _heavy(prepared: Prepared) -> bool:
    """Whether storing this folder is a heavy write (SQLite: off the event loop)."""
    return sum(len(data) for data in prepared.files.values()) > HEAVY_WRITE_BYTES


def _created(
    skill_id: str,
    vault: Vault | VaultRef,
    slug: str,
    prepared: Prepared,
    resolved: Resolved,
    now: int,
) -> Skill:
    """The skill a create stored, as :meth:`SkillReads.get` would read it back: built from
    what was written instead of read again (two more statements, four round trips on
    PostgreSQL). Files by path, as the read orders them."""
    ref = vault if isinstance(vault, VaultRef) else vault.ref
    summary = SkillSummary(
        skill_id,
        ref,
        slug,
        prepared.name,
        prepared.description,
        resolved.content_hash,
        len(resolved.files),
        resolved.size,
        now,
        now,
    )
    files = [
        SkillFile(resolved.ids[path], path, paths.file_kind(path), len(data), resolved.sha[path])
        for path, data in sorted(resolved.files.items())
    ]
    return Skill(summary, dict(prepared.frontmatter), files)


class SkillWrites(SkillReads):
    """The writes of :class:`SkillService`."""

    def prepare(self, upload: Upload, limits: Limits | None = None) -> Prepared:
        """Every rule that needs no database (skillfmt.rules), or 400 listing each problem."""
        return folder.prepare(upload, limits or self.limits)

    choose_slug = staticmethod(folder.choose_slug)
    resolve_drafts = staticmethod(folder.resolve_drafts)

    def _new_skill_transaction(self, prepared: Prepared) -> AbstractAsyncContextManager[Tx]:
        """Where a new skill is written: through the driver (no SQLAlchemy execution per
        statement; the create's statements are constants compiled once), except a heavy
        write, which goes to ``Database.write(heavy=True)`` (on SQLite a worker thread)."""
        if _heavy(prepared):
            return self._db.write(heavy=True)
        return self._db.direct.transaction()

    @staticmethod
    async def _writable_vault(tx: Tx, user_id: str, ref: str) -> Vault:
        vault = await find_vault_to_write(tx, user_id, ref)
        if not vault.can_write:
            raise errors.Forbidden(vault.read_only_reason or "You may not write to this vault.")
        return vault

    @staticmethod
    async def _refuse_taken_slug(
        tx: Tx, vault: Vault | VaultRef, slug: str, except_id: str = ""
    ) -> None:
        if await q.slug_taken(tx, vault.id, slug, except_id):
            raise errors.Conflict(
                f'The vault "{vault.slug}" already has a skill "{slug}".',
                details=[{"path": f"{vault.slug}/{slug}", "message": "This slug is taken."}],
            )

    async def _insert(
        self,
        tx: Tx,
        vault: Vault | VaultRef,
        skill_id: str,
        slug: str,
        prepared: Prepared,
        user_id: str | None,
        now: int,
        id_for: Callable[[str], str] = new_id,
    ) -> Resolved:
        """Store a new skill (in any transaction: the statements are constants)."""
        await self._refuse_taken_slug(tx, vault, slug)
        resolved = self.resolve_drafts(prepared, {path: id_for(path) for path in prepared.files})
        links = await link_rows(tx, vault.id, skill_id, resolved)
        await skill_writes.insert_new_skill(
            tx, new_skill_row(skill_id, vault.id, slug, user_id, now, prepared, resolved)
        )
        await skill_writes.insert_files(
            tx, skill_file_rows(skill_id, resolved, resolved.files, now)
        )
        await skill_writes.replace_links(tx, skill_id, links, new=True)
        await vault_queries.bump_revision(tx, vault.id)
        return resolved

    async def _replace(
        self,
        tx: Tx,
        row: Any,
        vault_id: str,
        slug: str,
        prepared: Prepared,
        existing: Mapping[str, tuple[str, str]],
        resolved: Resolved,
        now: int,
    ) -> None:
        """Replace a stored skill's whole file set; 412 if another write got there first."""
        links = await link_rows(tx, vault_id, row.id, resolved)
        unchanged = (
            resolved.content_hash == row.content_hash
            and vault_id == row.vault_id
            and slug == row.slug
        )
        values = skill_columns(prepared, resolved, row.updated_at if unchanged else now)
        if not await skill_writes.update_skill(
            tx, row.id, row.version, {"vault_id": vault_id, "slug": slug, **values}
        ):
            raise errors.PreconditionFailed(
                "The skill changed while this update was being saved; read it again and retry."
            )
        await skill_writes.delete_files(
            tx, [fid for path, (fid, _) in existing.items() if path not in resolved.files]
        )
        for path, (file_id, sha) in existing.items():
            if path in resolved.files and sha != resolved.sha[path]:
                data = resolved.files[path]
                await skill_writes.update_file(
                    tx,
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
        await skill_writes.insert_files(tx, skill_file_rows(row.id, resolved, added, now))
        await skill_writes.replace_links(tx, row.id, links)
        await vault_queries.bump_revision(tx, row.vault_id, vault_id)  # both ends of a move

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
            async with self._new_skill_transaction(prepared) as tx:
                target = await self._writable_vault(tx, user_id, vault or "personal")
                resolved = await self._insert(tx, target, skill_id, slug, prepared, user_id, now)
                await audit.record(
                    tx,
                    now,
                    "skill_create",
                    user_id=user_id,
                    ip=ip,
                    detail=f"skill {skill_id} vault {target.id} slug {slug}",
                )
        except Conflict:  # a racing writer took the slug between check and insert
            raise errors.Conflict(f'The vault already has a skill "{slug}".') from None
        return _created(skill_id, target, slug, prepared, resolved, now)

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
            async with self._db.write(heavy=_heavy(prepared)) as tx:
                row = await self._readable(tx, user_id, skill_id)
                rights = access(row.vault_type, row.role)
                if not rights.can_write:
                    raise errors.Forbidden(rights.read_only_reason)
                if if_match is not None and not matches_etag(if_match, row.content_hash):
                    raise errors.PreconditionFailed()
                target: Vault | VaultRef = VaultRef(
                    row.vault_id, row.vault_slug, row.vault_name, row.vault_type
                )
                if vault is not None:
                    target = await self._writable_vault(tx, user_id, vault)
                new_slug = slug or row.slug
                if (target.id, new_slug) != (row.vault_id, row.slug):
                    await self._refuse_taken_slug(tx, target, new_slug, row.id)
                existing = await q.file_ids(tx, row.id)
                dropped = {fid for p, (fid, _) in existing.items() if p not in prepared.files}
                kept = {p: i for p, i in (renamed_ids or {}).items() if i in dropped}
                ids = {
                    path: existing[path][0] if path in existing else kept.get(path, new_id(path))
                    for path in prepared.files
                }
                resolved = self.resolve_drafts(prepared, ids)
                await self._replace(tx, row, target.id, new_slug, prepared, existing, resolved, now)
                await audit.record(
                    tx,
                    now,
                    "skill_update",
                    user_id=user_id,
                    ip=ip,
                    detail=f"skill {row.id} hash {resolved.content_hash}",
                )
                if target.id != row.vault_id:
                    await audit.record(
                        tx,
                        now,
                        "skill_move",
                        user_id=user_id,
                        ip=ip,
                        detail=f"skill {row.id} vault {row.vault_id} -> {target.id}",
                    )
        except Conflict:
            raise errors.Conflict("The skill conflicts with a concurrent change; retry.") from None
        return await self.get(user_id, row.id)

    async def delete(
        self, user_id: str, skill_id: str, *, if_match: str | None = None, ip: str | None = None
    ) -> None:
        await self._charge_write(user_id)
        now = to_ms(self._clock())
        async with self._db.write() as tx:
            row = await self._readable(tx, user_id, skill_id)
            rights = access(row.vault_type, row.role)
            if not rights.can_write:
                raise errors.Forbidden(rights.read_only_reason)
            if if_match is not None and not matches_etag(if_match, row.content_hash):
                raise errors.PreconditionFailed()
            if not await skill_writes.delete_skill(tx, row.id, row.version):
                raise errors.PreconditionFailed("The skill changed while it was being deleted.")
            await vault_queries.bump_revision(tx, row.vault_id)
            await audit.record(
                tx,
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
        async with self._db.write() as tx:
            row = await q.summary_for_member_any(tx, vault.id, slug)
            if row is None:
                await self._insert(tx, vault, skill_id, slug, prepared, None, now, id_for)
                outcome = "created"
            else:
                existing = await q.file_ids(tx, row.id)
                ids = {p: existing[p][0] if p in existing else id_for(p) for p in prepared.files}
                resolved = self.resolve_drafts(prepared, ids)
                if resolved.content_hash == row.content_hash:
                    return "unchanged"
                await self._replace(tx, row, vault.id, slug, prepared, existing, resolved, now)
                outcome = "updated"
            await audit.record(
                tx,
                now,
                f"skill_{'create' if outcome == 'created' else 'update'}",
                detail=f"default skill {slug} in vault {vault.id}",
            )
        return outcome
