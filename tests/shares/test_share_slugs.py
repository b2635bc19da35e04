"""§8.2's slug de-duplication on import, as a pure function."""

from __future__ import annotations

from better_skills.server.services.shares import unique_slug
from better_skills.skillfmt.paths import check_slug


def test_free_slugs_are_kept_lower_cased() -> None:
    assert unique_slug(" Deploy ", set()) == "deploy"
    assert unique_slug("", set()) == "shared-skill"


def test_taken_slugs_get_copy_then_a_number() -> None:
    taken = {"deploy"}
    for expected in ("deploy-copy", "deploy-copy-2", "deploy-copy-3"):
        got = unique_slug("deploy", taken)
        assert got == expected
        taken.add(got)


def test_long_slugs_stay_valid() -> None:
    base = "a" * 64
    taken = {base}
    for _ in range(12):
        got = unique_slug(base, taken)
        assert check_slug(got) is None and len(got) <= 64 and got not in taken
        taken.add(got)
    assert "a" * 59 + "-copy" in taken and "a" * 56 + "-copy-10" in taken
