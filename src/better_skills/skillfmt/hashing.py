"""Content hashes of files and skills, and the ETag built from them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["content_hash", "etag", "file_sha256"]


def file_sha256(data: bytes) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def content_hash(files: Iterable[tuple[str, str]]) -> str:
    """A skill's hash over its ``(path, file sha256)`` pairs, git-tree style: sorted by path,
    each encoded as ``path + "\\0" + sha + "\\n"`` in UTF-8. It changes when any file changes,
    is added, removed or renamed."""
    digest = hashlib.sha256()
    for path, sha in sorted(files):
        digest.update(f"{path}\0{sha}\n".encode())
    return digest.hexdigest()


def etag(content_hash: str) -> str:
    """The strong HTTP validator for a content hash."""
    return f'"{content_hash}"'
