"""Fixtures for the abuse, fuzzing and fault tests.

``app`` is like the shared ``app_client`` but answers an unhandled exception with the 500 a
real server would send (instead of raising it into the test), so that a test can count 5xx
answers the way an attacker would see them. It also opens several "browsers" on one
application, each with its own cookie jar and client address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.support.clock import FakeClock

SITE = "http://testserver"


class App:
    """One in-process application; ``client(ip)`` opens a browser or device at ``ip``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @property
    def services(self) -> Any:
        return self.app.state.services

    @asynccontextmanager
    async def client(
        self, ip: str = "127.0.0.1", **kwargs: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(
            app=self.app, client=(ip, 50000), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(transport=transport, base_url=SITE, **kwargs) as client:
            yield client


def cheap_password_hashing(services: Any) -> None:
    """argon2id still, at its lowest cost: these tests are about abuse, not hashing cost
    (tests/server pins the production parameters), and hundreds of sign-ins must be quick."""
    from argon2 import PasswordHasher as Argon2

    passwords = services.accounts.passwords
    passwords._argon2 = Argon2(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._dummy = passwords._argon2.hash("not a real password")


@pytest.fixture
def app(settings_factory: Callable[..., Any], clock: FakeClock) -> Callable[..., Any]:
    """``async with app(**env) as a:`` the real application (lifespan run) with the fake clock."""
    from better_skills.server.app import create_app

    @asynccontextmanager
    async def open_app(**env: str) -> AsyncIterator[App]:
        application = create_app(settings_factory(**env), clock=clock)
        async with application.router.lifespan_context(application):
            opened = App(application)
            cheap_password_hashing(opened.services)
            yield opened

    return open_app
