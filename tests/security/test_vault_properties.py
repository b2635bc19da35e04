"""Property-based tests (hypothesis) of what the vault and sync read from untrusted hands
(issue 18 item 1), beyond the per-module properties in tests/skillfmt and tests/sync:

* the frontmatter parser on YAML built to hurt (alias bombs, deep nesting, tags, any
  mapping): a JSON-safe dict or ``FrontmatterError``, quickly; and a round trip;
* the mention parser and renderer: rendered output holds no live token (but escaped ones),
  and a rendered link
  to another skill stays inside the store whatever the slugs;
* path normalisation: an accepted path is NFC, has no control character, and joins inside the
  folder; ``normalize_reference`` never gives an absolute path;
* install keys: always contain ``--``, so never equal ``lock.json``, a marker or a dot-folder;
* the sync planner: for hostile manifests (slugs with separators, control characters, ``..``)
  every path an action touches is inside the store or an agent folder;
* bundle and clone unpacking: any JSON the server sends becomes files or one of the errors
  the CLI reports (never another exception, which would be a traceback).

``PROPERTY_EXAMPLES`` sets the examples per property (CI: 200); ``BS_FUZZ_LONG=1`` makes it 2,000.
"""

from __future__ import annotations

import json
import os
import time
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from better_skills.client.errors import UnexpectedResponse
from better_skills.skillfmt import mentions
from better_skills.skillfmt.frontmatter import FrontmatterError, parse_skill_md
from better_skills.skillfmt.paths import (
    UnsafePath,
    check_path,
    install_key,
    normalize_reference,
    safe_join,
)

LONG = os.environ.get("BS_FUZZ_LONG") == "1"
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "2000" if LONG else "200"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Characters an attacker likes: separators, dots, controls, escapes, bidi overrides.
NASTY = st.sampled_from(
    ["/", "\\", "..", ".", "\x00", "\x1b[31m", "\x1b]0;x\x07", "\u202e", "\r", "\n", "~", ":"]
)
nasty_text = st.lists(st.one_of(NASTY, st.text(max_size=6)), max_size=8).map("".join)


# -- frontmatter ----------------------------------------------------------------------------


def alias_bomb(depth: int, width: int) -> str:
    lines = ["a0: &a0 [x, x]"]
    for level in range(1, depth):
        refs = ", ".join(f"*a{level - 1}" for _ in range(width))
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines)


yaml_pieces = st.sampled_from(
    [
        "name: x",
        "description: y",
        "!!python/object/apply:os.system ['true']",
        "a: !!binary aGk=",
        "b: &r [*r]",
        "c: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "d: {",
        "? [a, b]\n: c",
        "e: 2001-12-14",
        "f: .inf",
        "<<: *nothing",
        "- list",
        "\t tab",
        "g: '\\x00'",
    ]
)


@PROPERTY
@given(st.lists(yaml_pieces, max_size=6), st.integers(1, 12), st.integers(1, 9))
def test_frontmatter_is_a_json_dict_or_a_frontmatter_error(
    pieces: list[str], depth: int, width: int
) -> None:
    head = "\n".join([*pieces, alias_bomb(depth, width)])
    started = time.monotonic()
    try:
        parsed = parse_skill_md(f"---\n{head}\n---\nbody\n")
    except FrontmatterError:
        pass
    else:
        json.dumps(parsed.frontmatter)  # JSON-safe: what the server stores and serves
        assert isinstance(parsed.frontmatter, dict)
    assert time.monotonic() - started < 2.0


#: Text YAML can carry (PyYAML folds NEL and the other line breaks: not ours to test).
plain = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | plain,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(plain, inner, max_size=4),
    max_leaves=20,
)


@settings(PROPERTY, max_examples=max(20, EXAMPLES // 4))
@given(st.dictionaries(plain.filter(bool), json_values, max_size=6))
def test_any_mapping_dumped_as_yaml_parses_back(data: dict[str, Any]) -> None:
    import yaml

    head = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    try:
        parsed = parse_skill_md(f"---\n{head}---\nbody\n")
    except FrontmatterError:
        return  # e.g. a value too long or a key the format refuses: refused, not crashed
    assert parsed.frontmatter == data


# -- mentions -------------------------------------------------------------------------------

uuids = st.uuids().map(str)
token_text = st.lists(
    st.one_of(
        uuids.map(lambda u: f"[[skill:{u}]]"),
        uuids.map(lambda u: f"[[resource:{u}]]"),
        st.sampled_from(["[[", "]]", "\\[[skill:", "`", "```\n", "[[resource:new:a.md]]"]),
        st.text(max_size=10),
    ),
    max_size=12,
).map("".join)


@PROPERTY
@given(token_text)
def test_rendered_text_has_no_live_token_left(text: str) -> None:
    """Every live token becomes its label; a token can appear in the output only where the
    author escaped one (``\\[[`` renders as the literal ``[[``)."""
    rendered = mentions.render(text, lambda token: "LINK")
    left = [t for t in mentions.mentions(rendered) if not t.draft]
    assert len(left) <= text.count("\\[[")


@PROPERTY
@given(nasty_text, nasty_text, st.sampled_from(["SKILL.md", "references/a.md", "x/y/z.txt"]))
def test_a_link_to_another_skill_stays_in_the_store(vault: str, slug: str, path: str) -> None:
    """What sync/bundle writes for a cross-skill mention: ``../<install key>/<path>``."""
    key = install_key(vault, slug)
    store = PurePosixPath("/store")
    link = PurePosixPath("/store/personal--me") / ".." / key / path
    resolved = os.path.normpath(str(link))
    assert resolved.startswith(str(store) + "/") and resolved.count("/") >= 3


# -- paths and install keys -----------------------------------------------------------------


@PROPERTY
@given(st.lists(st.one_of(NASTY, st.text(max_size=8)), max_size=6).map("/".join))
def test_an_accepted_path_is_clean_and_stays_inside(path: str) -> None:
    if check_path(path) is not None:
        try:
            safe_join(Path("/root/skill"), path)
        except UnsafePath:
            return
        raise AssertionError(f"safe_join accepted a path check_path refuses: {path!r}")
    assert unicodedata.normalize("NFC", path) == path
    assert not any(unicodedata.category(c) == "Cc" for c in path)
    joined = safe_join(Path("/root/skill"), path)
    assert os.path.normpath(joined).startswith("/root/skill/")


@PROPERTY
@given(nasty_text)
def test_normalize_reference_is_never_absolute(target: str) -> None:
    assert not normalize_reference(target).startswith("/")


@PROPERTY
@given(nasty_text, nasty_text)
def test_an_install_key_never_names_the_store_s_own_files(vault: str, slug: str) -> None:
    key = install_key(vault, slug)
    assert "--" in key and "/" not in key and "\\" not in key
    assert not key.startswith(".") and key not in ("lock.json", "..", ".")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in key)


# -- the sync planner on hostile manifests ---------------------------------------------------


@PROPERTY
@given(
    st.lists(
        st.tuples(nasty_text, nasty_text, uuids),
        min_size=1,
        max_size=8,
    )
)
def test_the_planner_touches_only_paths_inside_the_store(items: list[tuple]) -> None:
    from better_skills.sync.model import DiskState, Lock, ManifestItem
    from better_skills.sync.plan import make_plan

    manifest = [
        ManifestItem(
            id=skill_id,
            vault={"id": "v", "slug": vault, "name": vault, "type": "personal"},
            slug=slug,
            name=slug,
            description="",
            content_hash="0" * 64,
            updated_at="",
        )
        for vault, slug, skill_id in items
    ]
    store = Path("/home/u/.better-skills/skills")
    plan = make_plan(manifest, Lock(), DiskState(), [], store=store)
    for action in plan.actions:
        assert "/" not in action.key and action.key not in ("", ".", "..", "lock.json")
        for path in getattr(action, "paths", ()) or ():
            assert os.path.normpath(store / action.key / path).startswith(str(store) + "/")


# -- bundle and clone unpacking --------------------------------------------------------------

hostile_file = st.fixed_dictionaries(
    {},
    optional={
        "path": st.one_of(nasty_text, st.integers(), st.none()),
        "content": st.one_of(st.text(max_size=20), st.integers(), st.just("\ud800")),
        "content_base64": st.one_of(st.text(max_size=20), st.just("aGk=")),
        "sha256": st.one_of(st.text(max_size=64), st.none()),
    },
)
hostile_skill = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"files": st.one_of(st.lists(hostile_file | json_values, max_size=5), json_values)},
        optional={"id": json_values, "content_hash": json_values},
    ),
)


@PROPERTY
@given(hostile_skill)
def test_a_bundle_item_is_files_or_a_reported_error(raw: Any) -> None:
    from better_skills.sync.remote import HttpRemote

    class Api:
        def request_json(self, *args: Any, **kwargs: Any) -> Any:
            return {"items": [raw]}

    try:
        bundles = HttpRemote(Api()).bundle(["x"])  # type: ignore[arg-type]
    except UnexpectedResponse:
        return
    for bundle in bundles.values():
        assert all(isinstance(p, str) and isinstance(d, bytes) for p, d in bundle.files.items())


@PROPERTY
@given(hostile_skill)
def test_clone_reads_any_answer_as_files_or_a_reported_error(raw: Any) -> None:
    from better_skills.cli.commands.clone import skill_files

    try:
        files = skill_files(raw)
    except UnexpectedResponse:
        return
    assert all(isinstance(p, str) and isinstance(d, bytes) for p, d in files.items())
