"""Paths and names of a skill folder: which paths a skill may hold, and the names derived from
slugs (install folder keys, slugs from names).

Pure string arithmetic: nothing here touches the file system.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath

__all__ = [
    "MAX_DEPTH",
    "MAX_PATH_BYTES",
    "SLUG_PATTERN",
    "UnsafePath",
    "check_path",
    "check_slug",
    "file_kind",
    "install_key",
    "media_type",
    "nfc",
    "normalize_reference",
    "safe_join",
    "sanitize_key",
    "slugify",
]

MAX_PATH_BYTES = 255
MAX_DEPTH = 10

SLUG_PATTERN = re.compile(r"^[a-z0-9._-]{1,64}$")

_KIND_BY_FOLDER = {"references": "reference", "scripts": "script", "assets": "asset"}

_TEXT = "; charset=utf-8"
_MEDIA_TYPES = {
    ".md": "text/markdown" + _TEXT,
    ".mdx": "text/markdown" + _TEXT,
    ".markdown": "text/markdown" + _TEXT,
    ".txt": "text/plain" + _TEXT,
    ".rst": "text/x-rst" + _TEXT,
    ".csv": "text/csv" + _TEXT,
    ".tsv": "text/tab-separated-values" + _TEXT,
    ".html": "text/html" + _TEXT,
    ".htm": "text/html" + _TEXT,
    ".css": "text/css" + _TEXT,
    ".js": "text/javascript" + _TEXT,
    ".mjs": "text/javascript" + _TEXT,
    ".ts": "text/x-typescript" + _TEXT,
    ".py": "text/x-python" + _TEXT,
    ".sh": "text/x-shellscript" + _TEXT,
    ".bash": "text/x-shellscript" + _TEXT,
    ".rb": "text/x-ruby" + _TEXT,
    ".go": "text/x-go" + _TEXT,
    ".rs": "text/x-rust" + _TEXT,
    ".sql": "application/sql" + _TEXT,
    ".json": "application/json" + _TEXT,
    ".yaml": "application/yaml" + _TEXT,
    ".yml": "application/yaml" + _TEXT,
    ".toml": "application/toml" + _TEXT,
    ".xml": "application/xml" + _TEXT,
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".tar": "application/x-tar",
    ".wasm": "application/wasm",
}


class UnsafePath(ValueError):
    """A path that would leave its folder, or that a skill may not hold."""


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


def check_path(path: str) -> str | None:
    """``None`` when ``path`` may name a file of a skill, else the problem in one sentence."""
    if not path:
        return "The path is empty."
    if "\0" in path or any(_is_control(c) for c in path):
        return "The path contains a control character."
    if "\\" in path:
        return "The path contains a backslash; use forward slashes."
    if path.startswith("/"):
        return "The path must be relative (no leading /)."
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        return "The path is not valid UTF-8."
    if size > MAX_PATH_BYTES:
        return f"The path is longer than {MAX_PATH_BYTES} bytes ({size})."
    segments = path.split("/")
    if len(segments) > MAX_DEPTH:
        return f"The path is deeper than {MAX_DEPTH} levels ({len(segments)})."
    for segment in segments:
        if segment == "":
            return "The path has an empty segment (// or a trailing /)."
        if segment in (".", ".."):
            return f"The path has a {segment!r} segment."
        if segment.startswith("."):
            return f"Hidden files and folders are not allowed ({segment!r})."
    return None


def nfc(path: str) -> str:
    """The Unicode NFC form: two paths equal after it are the same file."""
    return unicodedata.normalize("NFC", path)


def file_kind(path: str) -> str:
    """``skill``, ``reference``, ``script``, ``asset`` or ``other``, from the first folder."""
    if path == "SKILL.md":
        return "skill"
    first, slash, _ = path.partition("/")
    if not slash:
        return "other"
    return _KIND_BY_FOLDER.get(first, "other")


def media_type(path: str) -> str:
    """The media type by extension; ``application/octet-stream`` when unknown."""
    suffix = PurePosixPath(path).suffix.lower()
    return _MEDIA_TYPES.get(suffix, "application/octet-stream")


def normalize_reference(target: str) -> str:
    """A draft path or local link as a folder path (original-system.md §4.1): trim, drop a
    leading ``./``, backslashes to ``/``, cut at ``#`` and ``?``, strip leading ``/``."""
    value = target.strip()
    if value.startswith("./"):
        value = value[2:]
    value = value.replace("\\", "/")
    value = value.split("#", 1)[0]
    value = value.split("?", 1)[0]
    return value.lstrip("/")


_KEY_RUNS = re.compile(r"[^a-z0-9._-]+")


def _key_segment(value: str, fallback: str) -> str:
    segment = _KEY_RUNS.sub("-", value.strip().lower()).strip("-")[:80]
    # A segment of only dots and dashes would be stripped away by the final sanitiser, taking
    # the "--" with it: vault "lock.json" + skill "." became the key "lock.json", the store's
    # own lock file (issue 18, a hostile manifest). Such a segment counts as empty.
    if not segment.strip(".-"):
        return fallback
    return segment


def install_key(vault_slug: str, skill_slug: str) -> str:
    """The folder name of a synced skill (§6.3): ``<vault>--<skill>``, e.g. ``personal--deploy``."""
    vault = _key_segment(vault_slug, "unknown-vault")
    skill = _key_segment(skill_slug, "unnamed-skill")
    return sanitize_key(f"{vault}--{skill}")


def sanitize_key(key: str) -> str:
    """§6.3's final sanitiser: only ``[a-z0-9._-]``, no leading or trailing ``.``/``-``, at most
    255 characters; never empty, ``.`` or ``..``."""
    cleaned = _KEY_RUNS.sub("-", key.lower()).strip(".-")[:255]
    return cleaned or "unnamed-skill"


def safe_join(root: Path, rel: str) -> Path:
    """``root / rel`` for a skill path, proven inside ``root`` without touching the disk."""
    problem = check_path(rel)
    if problem is not None:
        raise UnsafePath(f"{rel!r}: {problem}")
    joined = root.joinpath(*rel.split("/"))
    root_parts = root.parts
    if joined.parts[: len(root_parts)] != root_parts or len(joined.parts) <= len(root_parts):
        raise UnsafePath(f"{rel!r} is not inside {root}.")
    if any(part in (".", "..") for part in joined.parts[len(root_parts) :]):
        raise UnsafePath(f"{rel!r} is not inside {root}.")
    return joined


def check_slug(slug: str) -> str | None:
    """``None`` for a valid slug (1-64 of ``a-z 0-9 . _ -``, not ``.`` or ``..``), else why not."""
    if not SLUG_PATTERN.fullmatch(slug):
        return (
            "A slug is 1 to 64 characters: lowercase letters, digits, '-', '.' and '_'."
            f" {slug[:80]!r} is not."
        )
    if slug in (".", ".."):
        return f"{slug!r} cannot be a slug."
    return None


_SLUG_RUNS = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """A slug from a skill's name (§5.7): ``"Deploy to Prod"`` -> ``"deploy-to-prod"``."""
    slug = _SLUG_RUNS.sub("-", name.lower()).strip("-")[:64].rstrip("-")
    return slug or "skill"
