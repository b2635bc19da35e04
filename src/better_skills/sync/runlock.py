"""The lock file held for a whole sync (``<store>/.sync.lock``): two syncs never interleave."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from better_skills.client.errors import ClientError

__all__ = ["LOCK_FILE", "SyncBusy", "sync_lock"]

LOCK_FILE = ".sync.lock"


class SyncBusy(ClientError):
    """Another sync holds the store's lock."""


@contextmanager
def sync_lock(root: Path, *, wait: float = 5.0) -> Iterator[None]:
    """Hold ``<store>/.sync.lock`` (``flock``) for the run; wait up to ``wait`` seconds."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SyncBusy(
                        f"another sync is running on {root}; try again when it has finished"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
