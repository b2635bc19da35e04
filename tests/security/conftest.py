"""Fixtures for the abuse, fuzzing and fault tests.

``app`` opens the same in-process application as the shared ``app_client``
(tests/support/app.py), but answers an unhandled exception with the 500 a real server would
send (instead of raising it into the test), so that a test can count 5xx answers the way an
attacker would see them. It also opens several "browsers" on one application, each with its
own cookie jar and client address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.support.app import SITE, App, open_app
from tests.support.clock import FakeClock

__all__ = ["SITE", "App"]


@pytest.fixture
def app(settings_factory: Callable[..., Any], clock: FakeClock) -> Callable[..., Any]:
    """``async with app(**env) as a:`` the real application (lifespan run) with the fake clock."""

    @asynccontextmanager
    async def open_security_app(**env: str) -> AsyncIterator[App]:
        async with open_app(settings_factory(**env), clock, raise_app_exceptions=False) as opened:
            yield opened

    return open_security_app
