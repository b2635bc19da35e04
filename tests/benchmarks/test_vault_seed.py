"""The vault seeder's plan and content, without a database."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import vault_content

from better_skills.skillfmt.frontmatter import parse_skill_md
from better_skills.skillfmt.rules import check_skill

PEOPLE = [(f"u{i}", f"p{i}") for i in range(10)]


def test_the_first_user_syncs_exactly_1000_skills() -> None:
    plan = vault_content.plan(100_000, "team", PEOPLE, 500)
    by_vault = {share.vault_id: share.count for share in plan}
    assert by_vault["team"] + by_vault["p0"] == vault_content.MANIFEST_SKILLS
    assert sum(by_vault.values()) == 100_000
    others = [by_vault[p] for _, p in PEOPLE[1:]]
    assert max(others) - min(others) <= 1
    # Members may only read a team vault: its owner, the first person, writes all of it.
    assert plan[0].writers == ("u0",)


def test_the_skills_pass_the_servers_rules_and_plant_the_words() -> None:
    plan = vault_content.plan(50, "team", PEOPLE, 500)
    (batch,) = list(vault_content.batches(plan, seed=1, start_ms=0, processes=1, verify_every=1))
    assert len(batch.skills) == 50 and len(batch.files) == 150 and len(batch.audit) == 50
    # Every SKILL.md links to its guide; one skill in ten mentions the one before it.
    assert len(batch.links) == 50 + 5
    by_skill: dict[str, dict[str, bytes]] = {}
    for row in batch.files:
        by_skill.setdefault(row[1], {})[row[2]] = row[6]
    for folder in by_skill.values():
        assert check_skill(folder) == []
        parse_skill_md(folder["SKILL.md"].decode())
    bodies = [f["SKILL.md"].decode() for f in by_skill.values()]
    assert sum(vault_content.COMMON in b for b in bodies) == 10  # one in five
    assert sum(vault_content.RARE in b for b in bodies) == 1


def test_the_rows_are_deterministic() -> None:
    """Worker processes build the chunks; the same chunk and seed give the same rows."""
    plan = vault_content.plan(30, "team", PEOPLE, 10)
    whole = vault_content.build(vault_content.Chunk(tuple(plan), 0, 30, 7, 0, 1))
    again = vault_content.build(vault_content.Chunk(tuple(plan), 0, 30, 7, 0, 1))
    assert whole == again
    assert [r[1] for r in whole.skills[:10]] == ["team"] * 10
