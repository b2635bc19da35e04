"""rewrite-links (§4.6): the four passes, resolution, code left alone, idempotence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from better_skills.skillfmt.rewrite import rewrite_links, rewrite_text

KNOWN = [
    "references/api.md",
    "references/guide/intro.md",
    "scripts/run.sh",
    "assets/logo.png",
    "notes.md",
    "a/notes.md",
]


def one(text: str, source: str = "SKILL.md") -> str:
    return rewrite_text(text, source, KNOWN)[0]


def draft(path: str) -> str:
    return f"[[resource:new:{path}]]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 1. Markdown links: the whole link becomes the token.
        ("[the API](references/api.md)", draft("references/api.md")),
        ('[t](references/api.md "Title")', draft("references/api.md")),
        ("[t](<references/api.md>)", draft("references/api.md")),
        ("[t](./references/api.md#part)", draft("references/api.md")),
        ("[t](/references/api.md?x=1)", draft("references/api.md")),
        ("[t](references\\api.md)", draft("references/api.md")),
        ("![logo](assets/logo.png)", "![logo](assets/logo.png)"),
        ("\\[t](references/api.md)", "\\[t](references/api.md)"),
        (
            "[t](https://example.com/references/api.md)",
            "[t](https://example.com/references/api.md)",
        ),
        ("[t](#anchor)", "[t](#anchor)"),
        ("[t](missing.md)", "[t](missing.md)"),
        # 2. Autolinks.
        ("<scripts/run.sh>", draft("scripts/run.sh")),
        ("\\<scripts/run.sh>", "\\<scripts/run.sh>"),
        ("<div>", "<div>"),
        # 3. Wiki links.
        ("[[references/api.md]]", draft("references/api.md")),
        ("[[api.md|the API]]", draft("references/api.md")),
        ("\\[[api.md]]", "\\[[api.md]]"),
        ("[[unknown]]", "[[unknown]]"),
        ("[[resource:new:api.md]]", "[[resource:new:api.md]]"),
        # 4. Bare paths.
        ("see references/api.md.", f"see {draft('references/api.md')}."),
        ("./scripts/run.sh", draft("scripts/run.sh")),
        ("├ run.sh", f"├ {draft('scripts/run.sh')}"),
        ("> run.sh!", f"> {draft('scripts/run.sh')}!"),
        ("- run.sh", f"- {draft('scripts/run.sh')}"),
        ("-run.sh", "-run.sh"),  # one word, not a path
        ("x:run.sh", "x:run.sh"),
        ("(run.sh)", "(run.sh)"),
        ("http://h/run.sh", "http://h/run.sh"),
        ("notes.md", draft("notes.md")),  # from the root before by name
        # Resolution by unique, case-insensitive file name; ambiguous names stay.
        ("RUN.SH", draft("scripts/run.sh")),
        ("[x](intro.md)", draft("references/guide/intro.md")),
        # Code is untouched.
        ("`references/api.md`", "`references/api.md`"),
        ("``[t](notes.md)``", "``[t](notes.md)``"),
        ("```\nreferences/api.md\n```\n", "```\nreferences/api.md\n```\n"),
        ("~~~\n[t](notes.md)\n", "~~~\n[t](notes.md)\n"),
        ("`code` notes.md", f"`code` {draft('notes.md')}"),
        ("`code`notes.md", "`code`notes.md"),
        # Existing mentions are left as they are.
        (
            "[[skill:0123abcd-0000-4000-8000-00000000000a]]",
            "[[skill:0123abcd-0000-4000-8000-00000000000a]]",
        ),
    ],
)
def test_passes(text: str, expected: str) -> None:
    assert one(text) == expected


def test_relative_to_the_file_and_never_above_the_root() -> None:
    assert one("[up](../api.md)", "references/guide/intro.md") == draft("references/api.md")
    assert one("[x](notes.md)", "a/b.md") == draft("notes.md")  # the root comes first
    assert one("[x](./b.md)", "a/x.md") == "[x](./b.md)"
    assert one("[x](../../../notes.md)", "a/b.md") == "[x](../../../notes.md)"
    assert one("[x](../a/notes.md)", "a/b.md") == draft("a/notes.md")


def test_rewrite_links_reports_changed_files_with_counts() -> None:
    texts = {
        "SKILL.md": (
            "---\nname: x\ndescription: see notes.md\n---\n[a](scripts/run.sh) <notes.md>\n"
        ),
        "references/api.md": "nothing to do\n",
        "references/guide/intro.md": "[up](../api.md)\r\n",
    }
    result = rewrite_links(texts, KNOWN)
    assert set(result) == {"SKILL.md", "references/guide/intro.md"}
    assert result["SKILL.md"] == (
        f"---\nname: x\ndescription: see notes.md\n---\n"  # frontmatter left alone
        f"{draft('scripts/run.sh')} {draft('notes.md')}\n",
        2,
    )
    assert result["references/guide/intro.md"] == (f"{draft('references/api.md')}\r\n", 1)
    assert rewrite_links({"SKILL.md": "notes.md\n---\n"}, KNOWN) == {
        "SKILL.md": (f"{draft('notes.md')}\n---\n", 1)  # no frontmatter: all of it is text
    }
    again = {path: text for path, (text, _) in result.items()}
    assert rewrite_links(again, KNOWN) == {}


PIECES = st.sampled_from(
    [
        "[t](",
        ")",
        "<",
        ">",
        "[[",
        "]]",
        "|",
        "notes.md",
        "references/api.md",
        "run.sh",
        "./",
        "../",
        "`",
        "```",
        "~~~",
        "\n",
        " ",
        "!",
        "\\",
        "#x",
        ".",
        "├ ",
        "http://",
        "a",
    ]
)
TEXTS = st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=200))


@given(TEXTS, st.sampled_from(["SKILL.md", "a/b.md", "references/guide/intro.md"]))
def test_rewrite_is_idempotent(text: str, source: str) -> None:
    once, _ = rewrite_text(text, source, KNOWN)
    twice, count = rewrite_text(once, source, KNOWN)
    assert count == 0
    assert twice == once


@given(TEXTS)
def test_text_without_links_is_unchanged(text: str) -> None:
    new, count = rewrite_text(text, "SKILL.md", [])
    assert (new, count) == (text, 0)
