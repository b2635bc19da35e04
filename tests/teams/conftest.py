"""Fixtures of the team vault tests: an in-process app on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest


@pytest.fixture
async def client(app_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client() as client:
        yield client
