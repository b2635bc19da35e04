"""Shares on both sides of the wire: what names a share, and where its skills are installed."""

from __future__ import annotations

import itertools
import re
import uuid
from urllib.parse import urlsplit

from better_skills.skillfmt.paths import sanitize_key

#: The page of a share: ``/share/<id>``.
SHARE_PAGE = "/share/{share_id}"


def is_share_id(value: str) -> bool:
    """Share ids are random UUIDs (as the original's, whose CLI parses them)."""
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except (ValueError, AttributeError, TypeError):
        return False


_SEGMENTS = re.compile(r"/+")


def parse_share_ref(value: str) -> str | None:
    """A bare share id, or a URL whose path has ``share/<id>`` (e.g.
    ``https://host/share/<id>``); the id in lower case, or None."""
    value = value.strip()
    if is_share_id(value):
        return value.lower()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    segments = [s for s in _SEGMENTS.split(parts.path) if s]
    for here, after in itertools.pairwise(segments):
        if here == "share" and is_share_id(after):
            return after.lower()
    return None


def share_install_key(share_id: str, slug: str) -> str:
    """The store folder of a shared skill (original-system.md §8.3):
    ``shared-<first 8 characters of the share id>-<slug>``."""
    return sanitize_key(f"shared-{share_id[:8]}-{slug}")
