"""Small file helpers shared by the sync modules: atomic JSON writes and safe reads."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "dump_compact_json",
    "dump_json",
    "dump_json_rows",
    "read_json",
    "remove_stale_temps",
    "write_atomic",
    "write_temp",
]

#: A state file larger than this is not ours (the lock of 10,000 skills is a few MiB).
MAX_STATE_BYTES = 64 * 1024 * 1024


def dump_json(value: Any) -> bytes:
    """Pretty JSON with two-space indent and a trailing newline, like the original."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def dump_compact_json(value: Any) -> bytes:
    """JSON on one line, for files only we read (the manifest cache): ``json.dumps`` with an
    ``indent`` runs the pure-Python encoder, about ten times slower than the C one."""
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


#: The C encoder (no indent) with the spacing of ``json.dumps``'s default, for one row.
_ROW = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def dump_json_rows(value: Mapping[str, Any], rows: str) -> bytes:
    """Like :func:`dump_json`, but each item of ``value[rows]`` (a mapping) on one line.

    For ``lock.json``: one line per skill keeps it readable and its diffs small, and is the C
    encoder's work (a few ms for 1,000 skills, against 60 ms or more with ``indent``)."""
    lines = ["{"]
    keys = list(value)
    for index, key in enumerate(keys):
        comma = "," if index < len(keys) - 1 else ""
        item = value[key]
        if key == rows and isinstance(item, Mapping) and item:
            lines.append(f"  {_ROW(key)}: {{")
            names = list(item)
            for n, name in enumerate(names):
                row_comma = "," if n < len(names) - 1 else ""
                lines.append(f"    {_ROW(name)}: {_ROW(item[name])}{row_comma}")
            lines.append("  }" + comma)
        else:
            pretty = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            lines.append(f"  {_ROW(key)}: {pretty}{comma}")
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader sees the old file or the new one, never a half-written one. A symlink at ``path``
    is replaced, not followed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = write_temp(path.parent, data, mode, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_temp(folder: Path | str, data: bytes, mode: int, *, prefix: str, suffix: str = "") -> str:
    """A new temporary file in ``folder`` holding ``data`` (on disk, not just in a buffer) with
    permissions ``mode``, ready to be renamed over its target; its path. Removed on failure."""
    import tempfile  # only when writing: a no-op sync never imports it

    fd, temp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


#: ``write_atomic``'s temporary files: ``.<name>.<mkstemp's 8 characters>.tmp``.
_TEMP = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


def remove_stale_temps(folder: Path, names: tuple[str, ...]) -> None:
    """Remove the temporary files a killed ``write_atomic`` of one of ``names`` left in
    ``folder`` (the caller holds the lock that makes them stale); nothing else."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = _TEMP.fullmatch(entry.name)
        if match and match["name"] in names and not entry.is_dir(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def read_json(path: Path) -> Any | None:
    """The parsed JSON at ``path``; ``None`` when missing, unreadable, too large or invalid."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_STATE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_STATE_BYTES:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
