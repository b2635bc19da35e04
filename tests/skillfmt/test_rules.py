"""The server's rules (check_skill) and the folder check of `better-skills validate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from better_skills.skillfmt.rules import Limits, Problem, check_folder, check_skill, read_folder

A = "0123abcd-0000-4000-8000-00000000000a"
GOOD_MD = b"---\nname: demo\ndescription: A demo skill.\n---\n# Demo\n"


def skill_md(front: str, body: str = "# Body\n") -> bytes:
    return f"---\n{front}\n---\n{body}".encode()


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


GOOD_SKILLS = {
    "minimal": {"SKILL.md": GOOD_MD},
    "extra keys kept": {"SKILL.md": skill_md("name: a\ndescription: b\nlicense: MIT\nx: [1]")},
    "binary file": {"SKILL.md": GOOD_MD, "assets/logo.png": b"\x89PNG\r\n\x1a\n\0\xff"},
    "persisted mentions": {"SKILL.md": skill_md("name: a\ndescription: b", f"[[skill:{A}]]")},
    "draft to a file": {
        "SKILL.md": skill_md("name: a\ndescription: b", "[[resource:new:./references/x.md]]"),
        "references/x.md": b"x",
    },
    "bad token in code": {"SKILL.md": skill_md("name: a\ndescription: b", "`[[skill:foo]]`")},
    "escaped bad token": {"SKILL.md": skill_md("name: a\ndescription: b", "\\[[skill:foo]]")},
    "limits exactly": {
        "SKILL.md": skill_md(
            "name: " + "n" * 64 + "\ndescription: " + "d" * 1024 + "\ncompatibility: " + "c" * 500
        )
    },
    "binary with token bytes": {"SKILL.md": GOOD_MD, "a.bin": b"\0[[skill:foo]]"},
    "unicode name": {"SKILL.md": skill_md("name: Démo\ndescription: é")},
}


@pytest.mark.parametrize("files", GOOD_SKILLS.values(), ids=GOOD_SKILLS.keys())
def test_good_skills(files: dict[str, bytes]) -> None:
    assert check_skill(files) == []


BAD_SKILLS = [
    ("no SKILL.md", {"README.md": b"x"}, "missing_skill_md", "SKILL.md", None),
    ("SKILL.md in a folder only", {"sub/SKILL.md": GOOD_MD}, "missing_skill_md", "SKILL.md", None),
    ("binary SKILL.md", {"SKILL.md": b"---\0"}, "skill_md_not_text", "SKILL.md", None),
    ("no frontmatter", {"SKILL.md": b"# hi\n"}, "invalid_frontmatter", "SKILL.md", 1),
    (
        "bad yaml",
        {"SKILL.md": b"---\nname: a\ndescription: [\n---\n"},
        "invalid_frontmatter",
        "SKILL.md",
        4,
    ),
    ("no name", {"SKILL.md": skill_md("description: b")}, "invalid_name", "SKILL.md", None),
    (
        "empty name",
        {"SKILL.md": skill_md("name: ''\ndescription: b")},
        "invalid_name",
        "SKILL.md",
        None,
    ),
    (
        "blank name",
        {"SKILL.md": skill_md("name: '  '\ndescription: b")},
        "invalid_name",
        "SKILL.md",
        None,
    ),
    (
        "number name",
        {"SKILL.md": skill_md("name: 3\ndescription: b")},
        "invalid_name",
        "SKILL.md",
        None,
    ),
    (
        "long name",
        {"SKILL.md": skill_md("name: " + "n" * 65 + "\ndescription: b")},
        "invalid_name",
        "SKILL.md",
        None,
    ),
    ("no description", {"SKILL.md": skill_md("name: a")}, "invalid_description", "SKILL.md", None),
    (
        "null description",
        {"SKILL.md": skill_md("name: a\ndescription:")},
        "invalid_description",
        "SKILL.md",
        None,
    ),
    (
        "long description",
        {"SKILL.md": skill_md("name: a\ndescription: " + "d" * 1025)},
        "invalid_description",
        "SKILL.md",
        None,
    ),
    (
        "long compatibility",
        {"SKILL.md": skill_md("name: a\ndescription: b\ncompatibility: " + "c" * 501)},
        "invalid_compatibility",
        "SKILL.md",
        None,
    ),
    (
        "list compatibility",
        {"SKILL.md": skill_md("name: a\ndescription: b\ncompatibility: [x]")},
        "invalid_compatibility",
        "SKILL.md",
        None,
    ),
    ("hidden file", {"SKILL.md": GOOD_MD, ".env": b"x"}, "invalid_path", ".env", None),
    ("dotdot", {"SKILL.md": GOOD_MD, "../x": b"x"}, "invalid_path", "../x", None),
    ("absolute", {"SKILL.md": GOOD_MD, "/x": b"x"}, "invalid_path", "/x", None),
    ("backslash", {"SKILL.md": GOOD_MD, "a\\b": b"x"}, "invalid_path", "a\\b", None),
    (
        "too deep",
        {"SKILL.md": GOOD_MD, "/".join("abcdefghijk"): b"x"},
        "invalid_path",
        "/".join("abcdefghijk"),
        None,
    ),
    (
        "NFC duplicate",
        {"SKILL.md": GOOD_MD, "caf\u00e9.md": b"1", "cafe\u0301.md": b"2"},
        "duplicate_path",
        "caf\u00e9.md",
        None,
    ),
    (
        "bad mention",
        {"SKILL.md": skill_md("name: a\ndescription: b", "\n\n[[skill:foo]]")},
        "invalid_mention",
        "SKILL.md",
        7,
    ),
    (
        "bad mention in a resource",
        {"SKILL.md": GOOD_MD, "r.md": b"x\n[[resource:abc]]"},
        "invalid_mention",
        "r.md",
        2,
    ),
    (
        "draft to nothing",
        {"SKILL.md": skill_md("name: a\ndescription: b", "[[resource:new:nope.md]]")},
        "missing_draft_target",
        "SKILL.md",
        5,
    ),
]


@pytest.mark.parametrize(
    ("files", "code", "path", "line"),
    [case[1:] for case in BAD_SKILLS],
    ids=[case[0] for case in BAD_SKILLS],
)
def test_bad_skills(files: dict[str, bytes], code: str, path: str, line: int | None) -> None:
    problems = check_skill(files)
    assert code in codes(problems), problems
    problem = next(p for p in problems if p.code == code)
    assert (problem.path, problem.line, problem.severity) == (path, line, "error")


def test_size_and_count_limits() -> None:
    size = len(GOOD_MD)
    at_limit = Limits(max_file_bytes=size, max_skill_bytes=2 * size, max_files=2)
    assert check_skill({"SKILL.md": GOOD_MD, "a": b"x" * size}, at_limit) == []
    over = {"SKILL.md": GOOD_MD, "a": b"x" * (size + 1), "b": b"x"}
    problems = check_skill(over, at_limit)
    assert sorted(codes(problems)) == ["file_too_large", "skill_too_large", "too_many_files"]
    assert next(p for p in problems if p.code == "file_too_large").path == "a"


def test_every_problem_is_listed() -> None:
    files = {"SKILL.md": skill_md("name: ''", "[[skill:x]]"), ".a": b"", "b//c": b""}
    assert sorted(codes(check_skill(files))) == sorted(
        ["invalid_path", "invalid_path", "invalid_name", "invalid_description", "invalid_mention"]
    )


# -- folders -------------------------------------------------------------------------------


def make(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_read_folder_skips_hidden_and_reads_bytes(tmp_path: Path) -> None:
    root = make(
        tmp_path / "demo",
        {
            "SKILL.md": GOOD_MD,
            "assets/x.bin": b"\0\xff",
            ".resource-ids.json": b"{}",
            ".git/config": b"x",
            "a/.hidden": b"x",
            "a/b/c.md": b"c",
        },
    )
    files, problems = read_folder(root)
    assert files == {"SKILL.md": GOOD_MD, "assets/x.bin": b"\0\xff", "a/b/c.md": b"c"}
    assert problems == []


def test_read_folder_symlinks(tmp_path: Path) -> None:
    outside = make(tmp_path / "outside", {"secret.txt": b"s"})
    root = make(tmp_path / "demo", {"SKILL.md": GOOD_MD, "real.md": b"r", "sub/x.md": b"x"})
    (root / "inside.md").symlink_to(root / "real.md")
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "leakdir").symlink_to(outside)
    (root / "broken").symlink_to(root / "nope")
    (root / "loop").symlink_to(root / "sub")
    files, problems = read_folder(root)
    assert files["inside.md"] == b"r"
    assert "leak.txt" not in files and "leakdir/secret.txt" not in files
    found = {(p.path, p.code, p.severity) for p in problems}
    assert ("leak.txt", "symlink", "error") in found
    assert ("leakdir", "symlink", "error") in found
    assert ("broken", "symlink", "error") in found
    assert ("loop", "symlink", "warning") in found


def test_read_folder_reports_names_that_are_not_utf8(tmp_path: Path) -> None:
    root = make(tmp_path / "demo", {"SKILL.md": GOOD_MD})
    with open(os.path.join(os.fsencode(root), b"bad\xff.md"), "wb") as handle:
        handle.write(b"x")
    os.mkdir(os.path.join(os.fsencode(root), b"dir\xfe"))
    files, problems = read_folder(root)
    assert files == {"SKILL.md": GOOD_MD}
    assert sorted((p.code, p.path) for p in problems) == [
        ("invalid_path", "bad\ufffd.md"),
        ("invalid_path", "dir\ufffd"),
    ]


def test_read_folder_does_not_read_big_files_or_fifos(tmp_path: Path) -> None:
    root = make(tmp_path / "demo", {"SKILL.md": GOOD_MD, "big.bin": b"x" * 2000})
    os.mkfifo(root / "pipe")
    files, problems = read_folder(root, Limits(max_file_bytes=1000))
    assert "big.bin" not in files and "pipe" not in files
    assert {(p.path, p.code) for p in problems} == {
        ("big.bin", "file_too_large"),
        ("pipe", "unreadable"),
    }


def test_read_folder_stops_after_the_file_limit(tmp_path: Path) -> None:
    root = make(tmp_path / "demo", {f"f{i}.txt": b"" for i in range(20)})
    files, _ = read_folder(root, Limits(max_files=5))
    assert len(files) == 6
    assert "too_many_files" in codes(check_skill(files, Limits(max_files=5)))


def test_check_folder_ok_with_full_coverage(tmp_path: Path) -> None:
    root = make(
        tmp_path / "demo",
        {
            "SKILL.md": skill_md(
                "name: demo\ndescription: d", "See [[resource:new:references/a.md]]."
            ),
            "references/a.md": b"and [[resource:new:assets/x.bin]]",
            "assets/x.bin": b"\0\1",
        },
    )
    report = check_folder(root)
    assert report.ok and report.problems == []
    assert report.mentions == 2
    assert len(report.files) == 3


def test_check_folder_missing_folder(tmp_path: Path) -> None:
    report = check_folder(tmp_path / "nope")
    assert not report.ok
    assert codes(report.errors) == ["not_a_directory"]


def test_check_folder_warns_about_unreferenced_files(tmp_path: Path) -> None:
    root = make(tmp_path / "demo", {"SKILL.md": GOOD_MD, "b.md": b"", "a.md": b""})
    report = check_folder(root)
    assert report.ok
    assert [(w.code, w.path) for w in report.warnings] == [
        ("unreferenced_file", "a.md"),
        ("unreferenced_file", "b.md"),
    ]


def test_check_folder_understands_the_original_clone_marker(tmp_path: Path) -> None:
    body = f"[[resource:{A}]]"
    root = make(
        tmp_path / "demo",
        {"SKILL.md": skill_md("name: demo\ndescription: d", body), "references/a.md": b"x"},
    )
    # Without the marker every resource id counts, as in the original: no warning.
    assert check_folder(root).warnings == []
    (root / ".resource-ids.json").write_text(json.dumps({A.upper(): "references/a.md"}))
    assert check_folder(root).warnings == []
    (root / ".resource-ids.json").write_text(json.dumps({"other": "references/a.md"}))
    assert [(w.code, w.path) for w in check_folder(root).warnings] == [
        ("unreferenced_file", "references/a.md")
    ]


def test_spec_findings_are_warnings(tmp_path: Path) -> None:
    root = make(
        tmp_path / "demo",
        {"SKILL.md": skill_md("name: Not-The-Folder\ndescription: d\nauthor: me")},
    )
    report = check_folder(root)
    assert report.ok
    messages = [w.message for w in report.warnings if w.code == "spec"]
    assert any("must be lowercase" in m for m in messages)
    assert any("must match skill name" in m for m in messages)
    assert any("Unexpected fields in frontmatter: author" in m for m in messages)
    assert all(w.path == "SKILL.md" for w in report.warnings)


def test_spec_does_not_repeat_server_errors(tmp_path: Path) -> None:
    root = make(tmp_path / "demo", {"SKILL.md": skill_md("name: demo\ndescription: " + "d" * 1100)})
    report = check_folder(root)
    assert codes(report.errors) == ["invalid_description"]
    assert report.warnings == []


def test_skills_ref_runs_without_loading_strictyaml(tmp_path: Path) -> None:
    """strictyaml (skills-ref's own YAML parser, unused by us) costs half of `validate`'s time:
    it is loaded only if something really uses it, and then it works."""
    root = make(tmp_path / "demo", {"SKILL.md": skill_md("name: Demo\ndescription: d")})
    script = f"""
import sys
from pathlib import Path
from better_skills.skillfmt.rules import check_folder
report = check_folder(Path({str(root)!r}))
assert any("must be lowercase" in w.message for w in report.warnings), report.problems
assert not any(name.startswith("strictyaml.") for name in sys.modules), "strictyaml was loaded"
import strictyaml
assert strictyaml.load("a: 1").data == {{"a": "1"}}
from skills_ref.parser import parse_frontmatter
assert parse_frontmatter("---\\nname: x\\n---\\nbody") == ({{"name": "x"}}, "body")
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


FILE_SETS = st.dictionaries(
    st.one_of(st.text(max_size=20), st.sampled_from(["SKILL.md", "a/b.md", ".x", "a//b"])),
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.sampled_from([GOOD_MD, b"---\nname: [\n---\n", b"[[skill:x]] [[resource:new:a]]"]),
    ),
    max_size=6,
)


@given(FILE_SETS)
def test_check_skill_never_crashes(files: dict[str, bytes]) -> None:
    for problem in check_skill(files):
        assert problem.severity == "error"
        assert problem.message


def test_check_skill_frontmatter_hands_back_what_it_parsed() -> None:
    from better_skills.skillfmt.frontmatter import parse_skill_md
    from better_skills.skillfmt.rules import check_skill, check_skill_frontmatter

    text = "---\nname: demo\ndescription: Does things.\ntags: [a, b]\n# kept\n---\nBody\n"
    files = {"SKILL.md": text.encode(), "notes.md": b"x"}
    problems, frontmatter = check_skill_frontmatter(files)
    assert problems == check_skill(files) == []
    assert frontmatter == parse_skill_md(text).frontmatter
    assert check_skill_frontmatter({"notes.md": b"x"})[1] is None
    broken = {"SKILL.md": b"---\nname: [unclosed\n---\n"}
    problems, frontmatter = check_skill_frontmatter(broken)
    assert frontmatter is None and [p.code for p in problems] == ["invalid_frontmatter"]
