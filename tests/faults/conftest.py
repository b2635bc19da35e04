"""Fixtures of the fault tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pausable_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server run through ``paused_server.py``: ``server.env["BS_FAULT_PAUSE_FILE"]``
    names the marker; writing a skill id to ``<marker>.arm`` arms the pause."""
    folder = tmp_path / "pausable"
    folder.mkdir()
    server = LiveServer(
        database_url,
        folder,
        {"BS_FAULT_PAUSE_FILE": str(folder / "paused"), "PYTHONPATH": str(REPO)},
    )
    server.command = [sys.executable, "-m", "tests.faults.paused_server"]
    try:
        yield server.start()
    finally:
        server.stop()
