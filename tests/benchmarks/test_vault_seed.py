"""The vault seeder's plan and content, without a database."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import vault_seed

from better_skills.skillfmt.frontmatter import parse_skill_md
from better_skills.skillfmt.rules import check_skill


def test_the_first_user_syncs_exactly_1000_skills() -> None:
    personal = [f"p{i}" for i in range(10)]
    plan = vault_seed.plan(100_000, "team", personal, 500)
    by_vault = dict(plan.vaults)
    assert by_vault["team"] + by_vault["p0"] == vault_seed.MANIFEST_SKILLS
    assert sum(by_vault.values()) == 100_000
    assert max(by_vault[p] for p in personal[1:]) - min(by_vault[p] for p in personal[1:]) <= 1


def test_the_skills_pass_the_servers_rules_and_plant_the_words() -> None:
    plan = vault_seed.plan(50, "team", [f"p{i}" for i in range(10)], 500)
    (batch,) = list(vault_seed.skill_batches(plan, seed=1, start_ms=0))
    skills, files = batch
    assert len(skills) == 50 and len(files) == 150
    by_skill: dict[str, dict[str, bytes]] = {}
    for row in files:
        by_skill.setdefault(row[1], {})[row[2]] = row[6]
    for folder in by_skill.values():
        assert check_skill(folder) == []
        parse_skill_md(folder["SKILL.md"].decode())
    bodies = [f["SKILL.md"].decode() for f in by_skill.values()]
    assert sum(vault_seed.COMMON in b for b in bodies) == 10  # one in five
    assert sum(vault_seed.RARE in b for b in bodies) == 1
