"""One skill's files as ``POST /api/v1/sync/bundle`` sends them, and how many to ask for at once.

Shared by the HTTP adapter (``remote.py``), which parses them, and the executor (``apply.py``)
and share installs (``share_install.py``), which write them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BUNDLE_BATCH", "Bundle", "Fetch"]

#: The server's limit on ids per ``POST /api/v1/sync/bundle``.
BUNDLE_BATCH = 200


@dataclass(frozen=True)
class Bundle:
    """One skill's files from ``POST /api/v1/sync/bundle``: path → bytes."""

    id: str
    content_hash: str
    files: Mapping[str, bytes]

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Bundle:
        files: dict[str, bytes] = {}
        for f in value.get("files") or []:
            path = f.get("path")
            if not isinstance(path, str):
                raise ValueError("a file without a path")
            if isinstance(f.get("content"), str):
                files[path] = f["content"].encode("utf-8")
            elif isinstance(f.get("content_base64"), str):
                import base64  # only for binary files: a no-op sync never imports it

                files[path] = base64.b64decode(f["content_base64"], validate=True)
            else:
                raise ValueError(f"{path}: no content")
        return cls(str(value.get("id")), str(value.get("content_hash") or ""), files)


#: ids → their bundles (one request per :data:`BUNDLE_BATCH` ids).
Fetch = Callable[[Sequence[str]], Mapping[str, Bundle]]
