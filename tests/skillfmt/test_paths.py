"""Paths a skill may hold, and the names derived from slugs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from better_skills.skillfmt.paths import (
    UnsafePath,
    check_path,
    check_slug,
    file_kind,
    install_key,
    media_type,
    nfc,
    normalize_reference,
    safe_join,
    sanitize_key,
    slugify,
)

GOOD_PATHS = [
    "SKILL.md",
    "references/api.md",
    "scripts/run.sh",
    "a/b/c/d/e/f/g/h/i/j.md",  # 10 levels
    "assets/logo.png",
    "notes with spaces.md",
    "ünïcödé/ファイル.txt",
    "a" * 255,
    "x..y",
    "dir/file.with.dots",
]

BAD_PATHS = [
    ("", "empty"),
    ("/etc/passwd", "relative"),
    ("a\\b.md", "backslash"),
    ("a/../b.md", "'..'"),
    ("..", "'..'"),
    ("./a.md", "'.'"),
    ("a//b.md", "empty segment"),
    ("a/", "empty segment"),
    ("a\0b", "control"),
    ("a\nb", "control"),
    ("a\x7fb", "control"),
    (".hidden", "Hidden"),
    ("a/.git/config", "Hidden"),
    ("a" * 256, "255 bytes"),
    ("é" * 128, "255 bytes"),  # 256 bytes in UTF-8
    ("a/b/c/d/e/f/g/h/i/j/k.md", "10 levels"),
    ("\udcff.md", "UTF-8"),
]


@pytest.mark.parametrize("path", GOOD_PATHS)
def test_good_paths(path: str) -> None:
    assert check_path(path) is None


@pytest.mark.parametrize(("path", "why"), BAD_PATHS)
def test_bad_paths(path: str, why: str) -> None:
    problem = check_path(path)
    assert problem is not None
    assert why in problem


def test_nfc_makes_composed_and_decomposed_equal() -> None:
    assert nfc("cafe\u0301.md") == nfc("caf\u00e9.md") == "caf\u00e9.md"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("SKILL.md", "skill"),
        ("references/a.md", "reference"),
        ("scripts/x/y.py", "script"),
        ("assets/logo.png", "asset"),
        ("notes.md", "other"),
        ("references", "other"),
        ("docs/references/a.md", "other"),
        ("sub/SKILL.md", "other"),
    ],
)
def test_file_kind(path: str, kind: str) -> None:
    assert file_kind(path) == kind


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("SKILL.md", "text/markdown; charset=utf-8"),
        ("a/b.TXT", "text/plain; charset=utf-8"),
        ("scripts/run.py", "text/x-python; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("logo.png", "image/png"),
        ("blob", "application/octet-stream"),
        ("x.unknownext", "application/octet-stream"),
    ],
)
def test_media_type(path: str, expected: str) -> None:
    assert media_type(path) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("references/a.md", "references/a.md"),
        ("  ./references/a.md  ", "references/a.md"),
        ("references\\a.md", "references/a.md"),
        ("/references/a.md", "references/a.md"),
        ("///a.md", "a.md"),
        ("a.md#section", "a.md"),
        ("a.md?x=1#y", "a.md"),
        ("#only", ""),
    ],
)
def test_normalize_reference(target: str, expected: str) -> None:
    assert normalize_reference(target) == expected


@pytest.mark.parametrize(
    ("vault", "skill", "key"),
    [
        ("personal", "deploy", "personal--deploy"),
        ("acme", "deploy", "acme--deploy"),
        ("system-default", "better-skills", "system-default--better-skills"),
        ("  Acme Corp ", "Deploy To Prod!", "acme-corp--deploy-to-prod"),
        ("", "x", "unknown-vault--x"),
        ("v", "", "v--unnamed-skill"),
        ("---", "!!!", "unknown-vault--unnamed-skill"),
        ("a" * 100, "b", "a" * 80 + "--b"),
        ("v", "my.skill_1", "v--my.skill_1"),
        # Only dots and dashes: the segment counts as empty, so the "--" always stays (issue
        # 18: vault "lock.json" + skill "." used to give the key "lock.json", the lock file).
        ("../..", "..", "unknown-vault--unnamed-skill"),
        ("lock.json", ".", "lock.json--unnamed-skill"),
        ("..", "lock.json", "unknown-vault--lock.json"),
        ("v", "...", "v--unnamed-skill"),
    ],
)
def test_install_key(vault: str, skill: str, key: str) -> None:
    assert install_key(vault, skill) == key


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Personal--Deploy", "personal--deploy"),
        ("..", "unnamed-skill"),
        (".", "unnamed-skill"),
        ("", "unnamed-skill"),
        ("-.a.-", "a"),
        ("a b/c", "a-b-c"),
        ("x" * 300, "x" * 255),
    ],
)
def test_sanitize_key(key: str, expected: str) -> None:
    assert sanitize_key(key) == expected


KEY = re.compile(r"^[a-z0-9._-]+$")


@given(st.text(), st.text())
def test_install_key_is_always_a_safe_folder_name(vault: str, skill: str) -> None:
    key = install_key(vault, skill)
    assert KEY.fullmatch(key)
    assert len(key) <= 255
    assert key not in (".", "..")


@given(st.text())
def test_sanitize_key_is_always_a_safe_folder_name(key: str) -> None:
    clean = sanitize_key(key)
    assert KEY.fullmatch(clean)
    assert len(clean) <= 255
    assert clean not in (".", "..")


def test_safe_join_accepts_skill_paths(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "references/a.md") == tmp_path / "references" / "a.md"


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../x", "", ".", "a\\..\\x", ".git"])
def test_safe_join_refuses_escapes(tmp_path: Path, rel: str) -> None:
    with pytest.raises(UnsafePath):
        safe_join(tmp_path, rel)


@given(st.text())
def test_safe_join_never_leaves_root(rel: str) -> None:
    root = Path("/srv/skills/root")
    try:
        joined = safe_join(root, rel)
    except UnsafePath:
        return
    assert joined.parts[: len(root.parts)] == root.parts
    assert len(joined.parts) > len(root.parts)
    assert ".." not in joined.parts


@pytest.mark.parametrize("slug", ["a", "deploy", "my.skill_1", "x" * 64, "a-b", "0"])
def test_good_slugs(slug: str) -> None:
    assert check_slug(slug) is None


@pytest.mark.parametrize("slug", ["", "A", "x" * 65, "a b", "a/b", "é", ".", "..", "a\n"])
def test_bad_slugs(slug: str) -> None:
    assert check_slug(slug) is not None


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Deploy to Prod", "deploy-to-prod"),
        ("  --Hello__World--  ", "hello-world"),
        ("my.skill", "my-skill"),
        ("", "skill"),
        ("!!!", "skill"),
        ("Ünïcode", "n-code"),
        ("a" * 63 + " b", "a" * 63),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


@given(st.text())
def test_slugify_always_gives_a_valid_slug(name: str) -> None:
    assert check_slug(slugify(name)) is None
