"""The skills shipped with the server (folder ``default_skills``), kept in the system vault.

Seeded at every start, idempotently: a skill whose stored content hash equals the shipped
one is left alone, a changed one is replaced, a new one is created.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from better_skills.server.direct import Conflict
from better_skills.server.queries.vaults import SYSTEM_NAME, SYSTEM_SLUG, SYSTEM_VAULT_ID
from better_skills.server.services.vaults import VaultRef
from better_skills.skillfmt.rules import read_folder

if TYPE_CHECKING:
    from better_skills.server.services.container import Services

log = logging.getLogger("better_skills.server.default_skills")
DEFAULT_SKILLS_DIR = Path(__file__).resolve().parent.parent / "default_skills"
SYSTEM_VAULT = VaultRef(SYSTEM_VAULT_ID, SYSTEM_SLUG, SYSTEM_NAME, "system")


def shipped_skills(root: Path = DEFAULT_SKILLS_DIR) -> dict[str, dict[str, bytes]]:
    """slug -> files of every shipped skill (a folder holding a SKILL.md)."""
    found: dict[str, dict[str, bytes]] = {}
    for folder in sorted(p for p in root.iterdir() if (p / "SKILL.md").is_file()):
        files, problems = read_folder(folder)
        if problems:
            raise RuntimeError(f"default skill {folder.name}: {problems[0].message}")
        found[folder.name] = files
    return found


async def seed_default_skills(
    services: Services, root: Path = DEFAULT_SKILLS_DIR
) -> dict[str, str]:
    """slug -> "created", "updated" or "unchanged" for each shipped skill."""
    outcomes: dict[str, str] = {}
    for slug, files in shipped_skills(root).items():
        try:
            outcomes[slug] = await services.skills.seed(SYSTEM_VAULT, slug, files)
        except Conflict:  # another worker seeded it at the same moment
            outcomes[slug] = "unchanged"
    changed = {slug: o for slug, o in outcomes.items() if o != "unchanged"}
    if changed:
        log.info("default skills: %s", changed)
    return outcomes
