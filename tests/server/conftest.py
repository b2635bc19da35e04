"""Fixtures shared by the server's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from better_skills.server.db import Database, create_engine, migrate


@pytest.fixture
async def db(settings_factory: Callable[..., Any]) -> AsyncIterator[Database]:
    """A migrated database of the test's backend, through the server's own ``Database``."""
    database = Database(create_engine(settings_factory()))
    await migrate(database.engine)
    try:
        yield database
    finally:
        await database.dispose()
