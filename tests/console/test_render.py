"""The renderer alone: Markdown, sanitising, highlighting, mentions, and the XSS vectors."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import pytest

from better_skills.server.render import (
    FileTarget,
    Targets,
    highlight_file,
    link_mentions,
    render_markdown,
    sanitize,
)
from better_skills.server.render.code import stylesheet
from better_skills.server.render.graph_svg import DrawNode, draw, layout
from better_skills.server.render.markdown import ATTRIBUTES, TAGS
from better_skills.server.routers.pages._render import STATIC_DIR
from tests.console.xss_vectors import MARKDOWN_VECTORS, hostile_markdown

SKILL = str(uuid.UUID(int=1))
OTHER = str(uuid.UUID(int=2))
FILE = str(uuid.UUID(int=3))


class _Elements(HTMLParser):
    """Every element and attribute as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def assert_inert(rendered: str) -> None:
    """No tag outside the allow-list, no event handler, no link but http(s), mailto or
    relative: a vector shown as text, or inside a quoted title, cannot run."""
    parser = _Elements()
    parser.feed(rendered)
    for tag, attrs in parser.found:
        assert tag in TAGS, (tag, rendered)
        for name, value in attrs.items():
            assert name in ATTRIBUTES.get(tag, set()) | {"rel", "title"}, (tag, name)
            assert not name.startswith("on")
            if name in ("href", "src") and value and ":" in value.split("/", 1)[0]:
                scheme = value.split(":", 1)[0].strip().lower()
                assert scheme in ("http", "https", "mailto"), value


def _tags_and_attributes(rendered: str) -> str:
    """The markup only (text between tags dropped)."""
    return " ".join(re.findall(r"<[^>]*>", rendered)).lower()


@pytest.mark.parametrize("vector", MARKDOWN_VECTORS)
def test_each_known_vector_renders_inert(vector: str) -> None:
    assert_inert(render_markdown(vector))


def test_all_vectors_together_render_inert() -> None:
    rendered = render_markdown(hostile_markdown())
    assert_inert(rendered)
    for needle in ("<script", "<svg", "<img", "<iframe", "<style", "<form"):
        assert needle not in _tags_and_attributes(rendered)


def test_markdown_basics_and_links() -> None:
    out = render_markdown("# T\n\n*a* **b** [x](https://e.example/) [r](/vault) ![alt](p.png)")
    assert "<h1>T</h1>" in out and "<em>a</em>" in out and "<strong>b</strong>" in out
    assert '<a href="https://e.example/" rel="noopener noreferrer">x</a>' in out
    assert '<a href="/vault" rel="noopener noreferrer">r</a>' in out
    assert '<a href="p.png" rel="noopener noreferrer">alt</a>' in out  # images become links
    assert "<img" not in out


def test_raw_html_is_shown_as_text() -> None:
    assert "&lt;b&gt;bold&lt;/b&gt;" in render_markdown("<b>bold</b>")


def test_fenced_code_is_highlighted_with_classes_only() -> None:
    out = render_markdown("```python\nimport os\n```\n")
    assert '<span class="kn">import</span>' in out
    assert "style=" not in out
    plain = render_markdown("```nosuchlanguage\n<b>x</b>\n```\n")
    assert "&lt;b&gt;x&lt;/b&gt;" in plain


def test_sanitize_drops_what_is_not_allowed() -> None:
    out = sanitize('<p onclick="x()">t<a href="javascript:x()" target="_blank">l</a></p>')
    assert out == '<p>t<a rel="noopener noreferrer">l</a></p>'


def test_highlight_file_by_name() -> None:
    out = highlight_file("scripts/run.sh", "echo $HOME\n")
    assert out.startswith('<pre class="highlight"><code>') and 'class="nb"' in out
    text = highlight_file("notes.unknownext", "<script>\n")
    assert "&lt;script&gt;" in text


def test_mentions_become_links_and_unknowns_plain_text() -> None:
    targets = Targets(
        skills={OTHER: "Other [skill](javascript:x)"},
        files={FILE: FileTarget(OTHER, "Other", "references/a b.md")},
    )
    text = (
        f"[[skill:{OTHER}]] [[resource:{FILE}]] [[skill:{SKILL.replace('1', '9')}]] "
        f"[[resource:{SKILL}]] `[[skill:{OTHER}]]` \\[[skill:{OTHER}]]"
    )
    out = render_markdown(link_mentions(text, targets, current_skill=SKILL))
    assert f'<a href="/vault/skills/{OTHER}" rel="noopener noreferrer">' in out
    assert "Other [skill](javascript:x)</a>" in out  # the name is text, not Markdown
    assert f"/vault/skills/{OTHER}?file=references%2Fa%20b.md" in out
    assert "references/a b.md for Other" in out
    assert "<code>(unknown skill)</code>" in out and "<code>(unknown resource)</code>" in out
    assert f"<code>[[skill:{OTHER}]]</code>" in out  # in code: text
    assert f"[[skill:{OTHER}]]" in out.replace(f"<code>[[skill:{OTHER}]]</code>", "")
    assert "javascript:" not in _tags_and_attributes(out)


def test_own_files_are_named_by_path() -> None:
    targets = Targets(files={FILE: FileTarget(SKILL, "Me", "references/a.md")})
    out = link_mentions(f"[[resource:{FILE}]]", targets, current_skill=SKILL)
    assert out == f"[references\\/a\\.md](/vault/skills/{SKILL}?file=references%2Fa.md)"


def test_highlight_stylesheet_is_current() -> None:
    """static/highlight.css is generated; after a Pygments upgrade regenerate it with
    ``python -c 'from better_skills.server.render.code import stylesheet; print(stylesheet(),
    end="")' > src/better_skills/server/static/highlight.css``."""
    assert (STATIC_DIR / "highlight.css").read_text() == stylesheet()


def test_graph_svg_escapes_labels_and_is_stable() -> None:
    nodes = [
        DrawNode("a", '<script>x</script>"', "/vault/skills/a", current=True),
        DrawNode("b", "b", "/vault/skills/b"),
        DrawNode("c", "c", "/vault/skills/c"),
    ]
    first = draw(nodes, [("a", "b"), ("b", "c")], label="G")
    assert "<script" not in first.svg and "&lt;script&gt;" in first.svg
    assert first.svg.count("<line") == 2 and first.drawn == 3
    assert draw(nodes, [("a", "b"), ("b", "c")], label="G").svg == first.svg  # seeded
    assert layout(["x"], []) == {"x": (0.5, 0.5)}
