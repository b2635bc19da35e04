"""The real application in this process: one way for every in-process test to open it.

``open_app`` runs the application's lifespan (migrations, default vaults) with the test's
fake clock and, unless a test asks for the production cost, argon2id at its lowest cost:
hashing is not what these tests are about, and at RFC 9106's cost every sign-up, sign-in and
first start would take a tenth of a second or more. ``App.client`` opens an httpx client on
it (a browser or a device), at a client address of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.support.flow import SITE


def cheap_hash_cost() -> Any:
    from better_skills.server.security import HashCost

    return HashCost(time_cost=1, memory_kib=1024, parallelism=1)


class App:
    """One in-process application; ``client(ip)`` opens a browser or device at ``ip``."""

    def __init__(self, app: Any, raise_app_exceptions: bool) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions

    @property
    def services(self) -> Any:
        return self.app.state.services

    @asynccontextmanager
    async def client(
        self, ip: str = "127.0.0.1", **kwargs: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(
            app=self.app, client=(ip, 50000), raise_app_exceptions=self.raise_app_exceptions
        )
        async with httpx.AsyncClient(transport=transport, base_url=SITE, **kwargs) as client:
            client.app = self.app  # type: ignore[attr-defined]
            yield client


@asynccontextmanager
async def open_app(
    settings: Any,
    clock: Callable[[], float],
    *,
    raise_app_exceptions: bool = True,
    production_hashing: bool = False,
) -> AsyncIterator[App]:
    """The application on ``settings``, its lifespan run. ``raise_app_exceptions=False``
    answers an unhandled exception with the 500 a real server sends, instead of raising it
    into the test."""
    from better_skills.server.app import create_app
    from better_skills.server.security import PRODUCTION_HASH_COST

    cost = PRODUCTION_HASH_COST if production_hashing else cheap_hash_cost()
    application = create_app(settings, clock=clock, hash_cost=cost)
    async with application.router.lifespan_context(application):
        yield App(application, raise_app_exceptions)
