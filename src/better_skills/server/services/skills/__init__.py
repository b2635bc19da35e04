"""Skills: every file of a skill folder, stored byte for byte, with its mention links.

Writes check the folder with ``skillfmt.rules.check_skill`` (everything that needs no
database), then, in one transaction, the database facts: the vault and the caller's role,
slug conflicts, same-vault mention targets. Drafts ``[[resource:new:<path>]]`` become
``[[resource:<id>]]`` in that transaction, so what is stored (and hashed) is resolved text.

The modules: ``records`` (what the service hands out), ``folder`` (an upload and the rules
needing no database), ``links`` (mention edges), ``reads``, ``sync`` (manifest, bundles) and
``writes``; :class:`SkillService` is the three parts together.
"""

from __future__ import annotations

from better_skills.server.services.skills.folder import (
    Prepared,
    Resolved,
    Upload,
    limits_of,
    new_skill_row,
    problem,
    skill_columns,
    skill_file_rows,
)
from better_skills.server.services.skills.records import (
    MAX_BUNDLE,
    MAX_BUNDLE_BYTES,
    MAX_PAGE,
    SKILL_MD,
    BundleItem,
    Manifest,
    ManifestItem,
    Reference,
    Skill,
    SkillFile,
    SkillPage,
    SkillSummary,
    clean_text,
    decode_cursor,
    encode_cursor,
    is_uuid,
    matches_etag,
    summary_from_row,
)
from better_skills.server.services.skills.sync import SkillSync
from better_skills.server.services.skills.writes import SkillWrites


class SkillService(SkillWrites, SkillSync):
    """Reads, sync reads and writes of skills (see the modules)."""


__all__ = [
    "MAX_BUNDLE",
    "MAX_BUNDLE_BYTES",
    "MAX_PAGE",
    "SKILL_MD",
    "BundleItem",
    "Manifest",
    "ManifestItem",
    "Prepared",
    "Reference",
    "Resolved",
    "Skill",
    "SkillFile",
    "SkillPage",
    "SkillService",
    "SkillSummary",
    "Upload",
    "clean_text",
    "decode_cursor",
    "encode_cursor",
    "is_uuid",
    "limits_of",
    "matches_etag",
    "new_skill_row",
    "problem",
    "skill_columns",
    "skill_file_rows",
    "summary_from_row",
]
