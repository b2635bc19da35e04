"""The YAML frontmatter of ``SKILL.md``: found, parsed, never rewritten.

The server keeps ``SKILL.md`` byte for byte, so this module only reads: ``frontmatter`` is the
parsed mapping (stored as JSON beside the file), ``body`` the untouched text after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["FrontmatterError", "SkillMd", "parse_skill_md", "split_skill_md"]

#: A YAML alias can make a small document a huge tree ("billion laughs"); we walk it once and
#: stop here, so neither this check nor a later ``json.dumps`` can be made to run for ever.
_MAX_NODES = 10_000


class FrontmatterError(ValueError):
    """``SKILL.md`` has no usable frontmatter; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"{message} (line {line})")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class SkillMd:
    frontmatter: dict[str, Any]
    body: str
    body_line: int  # 1-based line where the body starts


_loader_class: Any = None


def _loader() -> Any:
    """PyYAML's safe loader without timestamps, so dates stay strings (JSON has no dates)."""
    global _loader_class
    if _loader_class is None:
        import yaml  # imported on first use: `better-skills --help` must not load it

        class _Loader(yaml.SafeLoader):
            pass

        _Loader.yaml_implicit_resolvers = {
            first: [
                (tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"
            ]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        _loader_class = _Loader
    return _loader_class


def split_skill_md(text: str) -> tuple[str, str, int]:
    """``(head, body, body_line)``: ``head`` is the frontmatter block with both ``---`` lines,
    ``text == head + body``. No YAML is read. Raises :class:`FrontmatterError`."""
    if not (text.startswith("---\n") or text.startswith("---\r\n")):
        raise FrontmatterError("SKILL.md must start with YAML frontmatter delimited by ---", 1)
    lines = text.split("\n")
    offset = len(lines[0]) + 1
    for index in range(1, len(lines)):
        line = lines[index]
        if line.strip() == "---":
            body_start = min(offset + len(line) + 1, len(text))
            return text[:body_start], text[body_start:], index + 2
        offset += len(line) + 1
    raise FrontmatterError("The frontmatter is not closed: no line with --- after the first", 1)


def parse_skill_md(text: str) -> SkillMd:
    """Split and parse ``SKILL.md``: it starts with ``---``, and a later line whose trimmed
    content is ``---`` closes the YAML block, which must be a mapping with string keys."""
    head, body, body_line = split_skill_md(text)
    first_line_end = text.index("\n") + 1
    closing_start = head.rstrip("\n").rfind("\n") + 1
    data = _load(text[first_line_end:closing_start])
    return SkillMd(frontmatter=data, body=body, body_line=body_line)


def _load(yaml_text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.load(yaml_text, Loader=_loader())  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for the ---
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FrontmatterError(f"The frontmatter is not valid YAML: {problem}", line) from None
    except RecursionError:
        raise FrontmatterError("The frontmatter is nested too deeply.") from None
    if not isinstance(data, dict):
        raise FrontmatterError("The frontmatter must be a YAML mapping (key: value lines).", 2)
    try:
        _check_json_data(data, [0])
    except RecursionError:  # an alias can make a value contain itself
        raise FrontmatterError("The frontmatter is nested too deeply.") from None
    return data


def _check_json_data(value: Any, count: list[int]) -> None:
    """Frontmatter is stored as JSON: string keys, and values JSON can carry."""
    count[0] += 1
    if count[0] > _MAX_NODES:
        raise FrontmatterError(f"The frontmatter has more than {_MAX_NODES} values.")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FrontmatterError(f"Frontmatter keys must be strings, not {key!r}.")
            _check_json_data(item, count)
    elif isinstance(value, list):
        for item in value:
            _check_json_data(item, count)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise FrontmatterError(f"The frontmatter value {value!r} cannot be stored as JSON.")
    elif not isinstance(value, (str, int, bool)) and value is not None:
        raise FrontmatterError(
            f"The frontmatter value of type {type(value).__name__} cannot be stored as JSON."
        )
