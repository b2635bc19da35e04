"""What the CLI's sync reads: the manifest (with an ETag from the vaults' revisions alone)
and bundles of files ready to install, mentions rendered as relative links."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Mapping
from typing import Any

from better_skills.protocol import errors
from better_skills.server.queries import skills as q
from better_skills.server.queries import vaults as vault_queries
from better_skills.server.services.skills import records
from better_skills.server.services.skills.reads import SkillReads
from better_skills.server.services.skills.records import (
    SKILL_MD,
    BundleItem,
    Manifest,
    ManifestItem,
    is_uuid,
)
from better_skills.server.services.vaults import VaultRef
from better_skills.skillfmt import mentions, paths


class SkillSync(SkillReads):
    """The manifest and bundles of :class:`SkillService`."""

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
        async with self._db.read() as tx:
            vault_ids = set(await vault_queries.vault_ids(tx, user_id))
            skills = {
                s.id: s
                for s in (await q.skill_targets(tx, wanted)).values()
                if s.vault_id in vault_ids
            }
            cap = records.MAX_BUNDLE_BYTES  # read here: a test lowers it
            if len(skills) > 1 and sum(s.size for s in skills.values()) > cap:
                raise errors.ContentTooLarge(
                    f"These skills hold more than {cap} bytes; ask for fewer at once."
                )
            file_rows = await q.files(tx, list(skills), content=True)
            tokens: dict[str, set[str]] = {"skill": set(), "resource": set()}
            for f in file_rows:
                if mentions.is_text(bytes(f.content)):
                    for token in mentions.mentions(bytes(f.content).decode("utf-8")):
                        tokens[token.kind].add(token.target)
            skill_labels = await q.skill_targets(tx, tokens["skill"])
            file_labels = await q.file_targets(tx, tokens["resource"])
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
