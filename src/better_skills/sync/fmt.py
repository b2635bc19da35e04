"""The skill-format rules sync needs, from ``better_skills.skillfmt`` (one rule, one place).

Until that package is on this branch, the same functions are defined here after the shared
contract; the import below prefers the real package.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

__all__ = ["UnsafePath", "check_path", "content_hash", "file_sha256", "install_key", "safe_join"]

try:  # pragma: no cover - whichever is present
    from better_skills.skillfmt.hashing import content_hash, file_sha256
    from better_skills.skillfmt.paths import UnsafePath, check_path, install_key, safe_join
except ImportError:  # pragma: no cover
    MAX_PATH_BYTES = 255
    MAX_DEPTH = 10

    class UnsafePath(ValueError):  # type: ignore[no-redef]
        """A path that would leave the skill folder or is not allowed in one."""

    def check_path(path: str) -> str | None:  # type: ignore[misc]
        if not path:
            return "the path is empty"
        if "\\" in path:
            return "the path contains a backslash"
        if path.startswith("/"):
            return "the path is absolute"
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
            return "the path contains a control character"
        if len(path.encode("utf-8")) > MAX_PATH_BYTES:
            return f"the path is longer than {MAX_PATH_BYTES} bytes"
        segments = path.split("/")
        if len(segments) > MAX_DEPTH:
            return f"the path is more than {MAX_DEPTH} levels deep"
        for segment in segments:
            if segment == "":
                return "the path has an empty segment"
            if segment in (".", ".."):
                return "the path has a . or .. segment"
            if segment.startswith("."):
                return "the path has a hidden segment"
        return None

    def safe_join(root: Path, rel: str) -> Path:  # type: ignore[misc]
        problem = check_path(rel)
        if problem is not None:
            raise UnsafePath(f"{rel!r}: {problem}")
        joined = PurePosixPath(rel)
        if joined.is_absolute() or ".." in joined.parts:
            raise UnsafePath(f"{rel!r}: outside the folder")
        return root.joinpath(*joined.parts)

    def _segment(value: str, fallback: str) -> str:
        text = re.sub(r"[^a-z0-9._-]+", "-", value.strip().lower()).strip("-")[:80]
        return text or fallback

    def _sanitize_key(key: str) -> str:
        text = re.sub(r"[^a-z0-9._-]+", "-", key.lower()).strip(".-")[:255]
        return text or "unnamed-skill"

    def install_key(vault_slug: str, skill_slug: str) -> str:  # type: ignore[misc]
        vault = _segment(vault_slug, "unknown-vault")
        skill = _segment(skill_slug, "unnamed-skill")
        return _sanitize_key(f"{vault}--{skill}")

    def file_sha256(data: bytes) -> str:  # type: ignore[misc]
        return hashlib.sha256(data).hexdigest()

    def content_hash(files: Iterable[tuple[str, str]]) -> str:  # type: ignore[misc]
        digest = hashlib.sha256()
        for path, sha in sorted(files):
            digest.update(f"{path}\0{sha}\n".encode())
        return digest.hexdigest()
