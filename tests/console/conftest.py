"""Fixtures of the console page tests: the application in process, on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest


@pytest.fixture
async def client(app_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client() as client:
        yield client
