"""The mention edges a skill write stores, checked against the database: every target must
be a skill or file of the same vault (or of the skill itself)."""

from __future__ import annotations

from typing import Any

from better_skills.protocol import errors
from better_skills.server.direct import Tx
from better_skills.server.queries import skills as q
from better_skills.server.services.skills.folder import Resolved, problem


async def link_rows(
    tx: Tx, vault_id: str, skill_id: str, resolved: Resolved
) -> list[dict[str, Any]]:
    """Mention edges of the resolved files; 400 unless every target is in ``vault_id``."""
    own_files = set(resolved.ids.values())
    skill_ids = {t.target for _, t in resolved.links if t.kind == "skill"} - {skill_id}
    file_ids = {t.target for _, t in resolved.links if t.kind == "resource"} - own_files
    skills = await q.skill_targets(tx, skill_ids)
    files = await q.file_targets(tx, file_ids)
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
