"""What every command shares: injected dependencies, the ``--server``/``--json`` options, and
the state the error reporter in ``main`` reads.

Like the GitHub CLI's factory: commands receive their I/O streams, browser, clock, session store
and HTTP client factory in a :class:`Deps`, so tests swap any of them. The HTTP client is created
lazily, which keeps httpx out of ``--help``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from better_skills.cli.browser import Browser, SystemBrowser
from better_skills.cli.output import Output
from better_skills.client.clock import Clock, SystemClock
from better_skills.client.config import ServerUrl, resolve_server_url
from better_skills.client.errors import ConfigError
from better_skills.client.session_store import SessionStore, default_session_path

if TYPE_CHECKING:
    from better_skills.client.api import AuthClient

__all__ = ["AppState", "Deps", "json_option", "server_option"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppState:
    """Per-invocation state; ``main`` reads ``server`` to word "cannot reach" errors."""

    server_flag: str | None = None
    server: ServerUrl | None = None
    command: str | None = None


@dataclass
class Deps:
    """Everything a command touches outside its own logic."""

    out: Output
    environ: Mapping[str, str]
    store: SessionStore
    browser: Browser
    clock: Clock
    client_factory: Callable[[str], AuthClient]
    state: AppState = field(default_factory=AppState)
    cwd: Path | None = None
    interactive: bool = False

    @classmethod
    def default(cls, state: AppState) -> Deps:
        out = Output()
        clock = SystemClock()

        def client_factory(base_url: str) -> AuthClient:
            from better_skills.client.api import AuthClient  # httpx: only when needed

            return AuthClient(base_url, clock=clock)

        return cls(
            out=out,
            environ=os.environ,
            store=SessionStore(default_session_path(os.environ), on_notice=out.warn),
            browser=SystemBrowser(),
            clock=clock,
            client_factory=client_factory,
            state=state,
            interactive=_isatty(sys.stdin),
        )

    def resolve_server(self, flag: str | None) -> ServerUrl:
        """The server for this command: its ``--server``, the root ``--server``, then config."""
        flag = flag or self.state.server_flag
        try:
            server = resolve_server_url(flag, environ=self.environ, cwd=self.cwd)
        except ConfigError as exc:
            if flag:  # a bad --server is a usage error (exit 2), like any bad option
                raise click.UsageError(exc.message) from None
            raise
        self.state.server = server
        return server


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def server_option(func: F) -> F:
    return click.option(
        "--server",
        metavar="URL",
        help="Server URL; overrides SERVER_URL and .env (default http://localhost:3000).",
    )(func)


def json_option(func: F) -> F:
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print a machine-readable result as JSON on stdout.",
    )(func)
