"""What the offline skill-folder commands (validate, init, rewrite-links) share: the folder
argument, failing with a sentence (and a JSON object under ``--json``), and atomic writes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from better_skills.cli.output import safe
from better_skills.client.errors import ClientError
from better_skills.sync.files import write_temp

__all__ = [
    "FOLDER_EPILOG",
    "FolderError",
    "ignored_server_option",
    "show_path",
    "write_files",
]

FOLDER_EPILOG = "Works offline. Exit codes: 0 ok, 1 error, 2 usage, 130 interrupted."


F = TypeVar("F", bound=Callable[..., Any])


def ignored_server_option(func: F) -> F:
    """``--server``, accepted (every command takes it) but unused: these commands are offline."""
    return click.option("--server", "_server", metavar="URL", hidden=True)(func)


class FolderError(ClientError):
    """A skill folder cannot be used as asked (exit 1); ``code`` names it in ``--json``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # type: ignore[misc]  # a per-instance code, as ApiError has


def show_path(path: Path | str) -> str:
    """A path for a message, cleaned of control characters."""
    return safe(str(path), max_length=1000)


def write_files(root: Path, changes: Mapping[str, bytes]) -> None:
    """Write ``root/path`` for each change, all or nothing as far as a file system allows:
    every new content goes to a temporary file beside its target first; only when all are
    written are they renamed over the targets (each rename is atomic). A file reached through a
    symbolic link is written where the link points, and keeps its permissions."""
    staged: list[tuple[str, str]] = []
    try:
        for rel, data in changes.items():
            target = os.path.realpath(root / rel)
            mode = os.stat(target).st_mode & 0o7777
            temp = write_temp(os.path.dirname(target), data, mode, prefix=".tmp-")
            staged.append((temp, target))
    except BaseException:  # a full disk, or Ctrl-C: no file changed, no temporary left
        for temp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise
    for temp, target in staged:
        os.replace(temp, target)
