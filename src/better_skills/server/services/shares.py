"""Shares: a frozen snapshot of a skill and the skills it mentions, under an unguessable id
(original-system.md §8, with revocation and a list of one's shares added).

* The snapshot (§8.1) follows mention edges outwards from the shared skill, breadth first,
  through skills the sharer can read; every included skill brings all its files, copied byte
  for byte, so later edits and deletes of the sources do not change it.
* Reading a share (page, bundle) needs no account: the id is the secret. A revoked share is
  gone (404) for everyone.
* Importing (§8.2) copies the snapshot into the caller's personal vault with new ids, every
  mention remapped to them, and slugs made unique (``<slug>-copy``, ``<slug>-copy-2``, ...).
"""

from __future__ import annotations

import uuid
from typing import Any

from better_skills.protocol import errors
from better_skills.protocol.shares import share_install_key
from better_skills.server.db import Database
from better_skills.server.direct import Tx
from better_skills.server.queries import shares as q
from better_skills.server.queries import skill_writes
from better_skills.server.queries import skills as skill_queries
from better_skills.server.queries import vaults as vault_queries
from better_skills.server.services import Clock, audit, to_ms
from better_skills.server.services.permissions import access
from better_skills.server.services.rate_limit import WriteLimits
from better_skills.server.services.share_records import (
    MAX_SHARE_SKILLS,
    NOT_FOUND,
    SNAPSHOT_VERSION,
    ImportedSkill,
    ImportResult,
    Share,
    ShareFile,
    ShareSkill,
    refuse_bad_id,
    share_from_row,
    share_link,
    unique_slug,
)
from better_skills.server.services.skills import (
    MAX_BUNDLE_BYTES,
    BundleItem,
    SkillService,
    Upload,
    new_skill_row,
    skill_file_rows,
)
from better_skills.server.services.vaults import find_member_vault
from better_skills.skillfmt import mentions
from better_skills.skillfmt.rules import Limits


class ShareService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        skills: SkillService,
        write_limits: WriteLimits | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._skills = skills
        self._write_limits = write_limits

    async def _charge(self, user_id: str) -> None:
        """Shares and imports spend the account's write budget (``RATE_LIMIT_WRITES``)."""
        if self._write_limits is not None:
            await self._write_limits.charge(user_id)

    # -- Create ------------------------------------------------------------------------------

    async def create(self, user_id: str, skill_id: str, *, ip: str | None = None) -> Share:
        """Snapshot ``skill_id`` and what it mentions. The sharer must read it; a team vault's
        skill needs its owner or an admin (§8.2's enterprise rule)."""
        await self._charge(user_id)
        try:
            uuid.UUID(skill_id)
        except (ValueError, AttributeError, TypeError):
            raise errors.NotFound("Skill not found.") from None
        share_id = str(uuid.uuid4())
        now = to_ms(self._clock())
        # One transaction: the snapshot is consistent even while others write. Heavy: it
        # copies whole skills, whose size is only known once they are read.
        async with self._db.write(heavy=True) as tx:
            row = await skill_queries.summary_for_member(tx, skill_id.lower(), user_id)
            if row is None or not access(row.vault_type, row.role).can_read:
                raise errors.NotFound("Skill not found.")
            if row.vault_type == "team" and row.role not in ("owner", "admin"):
                raise errors.Forbidden(
                    "Only the owner or an admin of a team vault can share its skills."
                )
            skills = await self._snapshot(tx, user_id, row.id)
            file_rows = [
                {
                    "share_id": share_id,
                    "file_id": f.id,
                    "skill_id": s.id,
                    "path": f.path,
                    "kind": f.kind,
                    "content": f.content,
                }
                for s in skills
                for f in s.files
            ]
            root = skills[0]
            values = {
                "id": share_id,
                "skill_id": root.id,
                "created_by": user_id,
                "created_at": now,
                "revoked_at": None,
                "slug": root.slug,
                "name": root.name,
                "description": root.description,
                "skill_count": len(skills),
                "file_count": len(file_rows),
                "size": sum(s.size for s in skills),
                "snapshot": {
                    "version": SNAPSHOT_VERSION,
                    "root_skill_id": root.id,
                    "skills": [
                        {
                            "id": s.id,
                            "slug": s.slug,
                            "name": s.name,
                            "description": s.description,
                            "frontmatter": s.frontmatter,
                            "content_hash": s.content_hash,
                        }
                        for s in skills
                    ],
                },
            }
            await q.insert_share(tx, values, file_rows)
            await audit.record(
                tx,
                now,
                "share_create",
                user_id=user_id,
                ip=ip,
                detail=f"share {share_id} skill {root.id} skills {len(skills)}",
            )
        return Share(
            id=share_id,
            skill_id=root.id,
            created_by=user_id,
            created_at=now,
            slug=root.slug,
            name=root.name,
            description=root.description,
            skill_count=len(skills),
            file_count=len(file_rows),
            size=values["size"],
            skills=skills,
        )

    async def _snapshot(self, tx: Tx, user_id: str, root_id: str) -> list[ShareSkill]:
        """§8.1: breadth first along outgoing mentions, through readable skills only; root
        first, then by name and id; each skill with all its files."""
        readable = set(await vault_queries.vault_ids(tx, user_id))
        included = [root_id]
        seen = {root_id}
        frontier = [root_id]
        while frontier:
            targets = {r.target_skill_id for r in await q.outgoing(tx, frontier)} - seen
            found = [r for r in await q.skill_rows(tx, targets) if r.vault_id in readable]
            frontier = sorted(r.id for r in found)
            seen |= targets
            included += frontier
            if len(included) > MAX_SHARE_SKILLS:
                raise errors.ContentTooLarge(
                    f"This skill mentions more than {MAX_SHARE_SKILLS - 1} skills (directly "
                    "or through others); a share holds at most that many."
                )
        rows = {r.id: r for r in await q.skill_rows(tx, included)}
        if sum(r.size for r in rows.values()) > MAX_BUNDLE_BYTES:
            raise errors.ContentTooLarge(
                f"These skills hold more than {MAX_BUNDLE_BYTES} bytes; a share cannot hold them."
            )
        files: dict[str, list[ShareFile]] = {}
        for f in await skill_queries.files(tx, list(rows), content=True):
            files.setdefault(f.skill_id, []).append(
                ShareFile(f.id, f.path, f.kind, bytes(f.content))
            )
        order = [
            root_id,
            *sorted((i for i in rows if i != root_id), key=lambda i: (rows[i].name, i)),
        ]
        return [
            ShareSkill(
                id=i,
                slug=rows[i].slug,
                name=rows[i].name,
                description=rows[i].description,
                frontmatter=dict(rows[i].frontmatter or {}),
                content_hash=rows[i].content_hash,
                files=sorted(files.get(i, []), key=lambda f: (f.path, f.id)),
            )
            for i in order
        ]

    # -- Read --------------------------------------------------------------------------------

    async def list_mine(self, user_id: str) -> list[Share]:
        async with self._db.read() as tx:
            return [share_from_row(r) for r in await q.created_by(tx, user_id)]

    async def get(self, share_id: str) -> Share:
        """A live share with its snapshot; anyone may read it (the id is the secret)."""
        share_id = refuse_bad_id(share_id)
        async with self._db.read() as tx:
            row = await q.live(tx, share_id)
            if row is None:
                raise errors.NotFound(NOT_FOUND)
            file_rows = await q.files(tx, share_id)
        files: dict[str, list[ShareFile]] = {}
        for f in file_rows:
            files.setdefault(f.skill_id, []).append(
                ShareFile(f.file_id, f.path, f.kind, bytes(f.content))
            )
        snapshot = row.snapshot or {}
        skills = [
            ShareSkill(
                id=s["id"],
                slug=s["slug"],
                name=s["name"],
                description=s["description"],
                frontmatter=dict(s.get("frontmatter") or {}),
                content_hash=s["content_hash"],
                files=sorted(files.get(s["id"], []), key=lambda f: (f.path, f.id)),
            )
            for s in snapshot.get("skills", [])
        ]
        if not skills:  # a snapshot is never empty; a broken row is not served half
            raise errors.NotFound(NOT_FOUND)
        return share_from_row(row, skills)

    async def bundle(self, share_id: str) -> tuple[Share, list[BundleItem]]:
        """The snapshot's files ready to install: mentions become relative links between the
        folders ``share_install_key`` names (a skill or file outside the share: a label)."""
        share = await self.get(share_id)
        keys = {s.id: share_install_key(share.id, s.slug) for s in share.skills}
        by_skill = {s.id: s for s in share.skills}
        by_file = {f.id: (s, f) for s in share.skills for f in s.files}
        items = []
        for s in share.skills:
            out: list[tuple[str, bytes]] = []
            for f in s.files:
                data = f.content
                if mentions.is_text(data):
                    label = share_link(keys[s.id], s, f.path, keys, by_skill, by_file)
                    data = mentions.render(data.decode("utf-8"), label).encode("utf-8")
                out.append((f.path, data))
            items.append(BundleItem(s.id, s.content_hash, out))
        return share, items

    # -- Import ------------------------------------------------------------------------------

    async def import_share(
        self, user_id: str, share_id: str, *, ip: str | None = None
    ) -> ImportResult:
        """Copy the snapshot into the caller's personal vault (§8.2), all or nothing."""
        await self._charge(user_id)
        share = await self.get(share_id)
        new_skill = {s.id: str(uuid.uuid4()) for s in share.skills}
        new_file = {f.id: str(uuid.uuid4()) for s in share.skills for f in s.files}
        new_skill_ids = set(new_skill.values())
        file_skill = {new_file[f.id]: new_skill[s.id] for s in share.skills for f in s.files}

        def remap(token: mentions.Token) -> str | None:
            if token.draft:
                return None
            table = new_skill if token.kind == "skill" else new_file
            target = table.get(token.target)
            return None if target is None else f"[[{token.kind}:{target}]]"

        now = to_ms(self._clock())
        imported: list[ImportedSkill] = []
        all_links: list[dict[str, Any]] = []
        file_count = link_count = 0
        async with self._db.write(heavy=True) as tx:  # a bulk import: off the loop
            vault = await find_member_vault(tx, user_id, "personal")
            if not vault.can_write:
                raise errors.Forbidden(vault.read_only_reason or "You may not write here.")
            taken = await q.slugs_in(tx, vault.id)
            for s in share.skills:
                files: dict[str, bytes] = {}
                for f in s.files:
                    data = f.content
                    if mentions.is_text(data):
                        data = mentions.replace(data.decode("utf-8"), remap).encode("utf-8")
                    files[f.path] = data
                # The format's own limits: the share was valid where it was made.
                prepared = self._skills.prepare(Upload(files), Limits())
                resolved = SkillService.resolve_drafts(
                    prepared, {f.path: new_file[f.id] for f in s.files}
                )
                slug = unique_slug(s.slug, taken)
                taken.add(slug)
                skill_id = new_skill[s.id]
                links = []
                for path, token in resolved.links:
                    if token.kind == "skill" and token.target in new_skill_ids:
                        target = (token.target, None)
                    elif token.kind == "resource" and token.target in file_skill:
                        target = (file_skill[token.target], token.target)
                    else:
                        continue  # a mention of something the share does not hold
                    links.append(
                        {
                            "source_skill_id": skill_id,
                            "source_file_id": resolved.ids[path],
                            "target_skill_id": target[0],
                            "target_file_id": target[1],
                            "kind": "mention",
                        }
                    )
                await skill_writes.insert_skill(
                    tx, new_skill_row(skill_id, vault.id, slug, user_id, now, prepared, resolved)
                )
                await skill_writes.insert_files(
                    tx, skill_file_rows(skill_id, resolved, resolved.files, now)
                )
                imported.append(ImportedSkill(skill_id, slug, prepared.name))
                file_count += len(resolved.files)
                link_count += len(links)
                all_links += links
            # After every skill: a link may point at a skill inserted later in the loop.
            for done in imported:
                await skill_writes.replace_links(
                    tx,
                    done.id,
                    [r for r in all_links if r["source_skill_id"] == done.id],
                    new=True,  # made in this transaction: no links to delete
                )
            await vault_queries.bump_revision(tx, vault.id)
            await audit.record(
                tx,
                now,
                "share_import",
                user_id=user_id,
                ip=ip,
                detail=f"share {share.id} skills {len(imported)} vault {vault.id}",
            )
        return ImportResult(imported[0].id, imported, file_count, link_count)

    # -- Revoke ------------------------------------------------------------------------------

    async def revoke(self, user_id: str, share_id: str, *, ip: str | None = None) -> None:
        """Only its creator may revoke a share; for anyone else it does not exist (404)."""
        share_id = refuse_bad_id(share_id)
        now = to_ms(self._clock())
        async with self._db.write() as tx:
            if not await q.revoke(tx, share_id, user_id, now):
                raise errors.NotFound(NOT_FOUND)
            await audit.record(
                tx, now, "share_revoke", user_id=user_id, ip=ip, detail=f"share {share_id}"
            )
