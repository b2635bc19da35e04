"""What every command shares: injected dependencies, the credential resolver, the
``--server``/``--json`` options, and the state the error reporter in ``main`` reads.

Like the GitHub CLI's factory: commands receive their I/O streams, browser, clock, session store
and API client factory in a :class:`Deps`, so tests swap any of them. A command that talks to the
server as the user does::

    server = deps.resolve_server(options.server)
    with deps.api(server, deps.credentials(server)) as api:
        data = api.request_json("GET", "/api/v1/vaults", auth=True)

Commands raise typed errors (``client.errors``, ``protocol.errors``) and never print them:
``main`` reports every error once, with the exit code of its table. HTTP clients are created
lazily, which keeps httpx out of ``--help``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from better_skills.cli.browser import Browser, SystemBrowser
from better_skills.cli.output import Output, format_relative
from better_skills.client.clock import Clock, SystemClock
from better_skills.client.config import (
    TOKEN_ENV,
    ServerUrl,
    resolve_server_url,
    same_server,
    token_from_env,
)
from better_skills.client.credentials import Credential
from better_skills.client.errors import (
    ClientError,
    ConfigError,
    CredentialServerMismatch,
    NotAuthenticated,
)
from better_skills.client.session_store import SessionStore, default_session_path
from better_skills.protocol.device_flow import TOKEN_TYPE

if TYPE_CHECKING:
    from better_skills.client._transport import ApiClient
    from better_skills.client.api import AuthClient

__all__ = [
    "COMMAND_EPILOG",
    "ApiFactory",
    "AppState",
    "Deps",
    "exit_codes_epilog",
    "json_option",
    "server_option",
    "unreachable_hints",
]

#: The exit codes a command's help lists when it can return all of them (a command that cannot
#: return some of them lists its own with :func:`exit_codes_epilog`).
COMMAND_EPILOG = "Exit codes: 0 ok, 1 error, 2 usage, 4 not authenticated, 130 interrupted."

#: ``(base_url, credential) -> ApiClient``; tests return clients over a fake transport.
ApiFactory = Callable[[str, "Credential | None"], "ApiClient"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppState:
    """Per-invocation state, set by option parsing (never by a command's ``run``); ``main``
    reads it to word errors ("cannot reach" names ``server``)."""

    server_flag: str | None = None
    server: ServerUrl | None = None
    command: str | None = None
    #: ``--json`` was given: errors go to stdout as a JSON object too.
    as_json: bool = False


@dataclass
class Deps:
    """Everything a command touches outside its own logic."""

    out: Output
    environ: Mapping[str, str]
    store: SessionStore
    browser: Browser
    clock: Clock
    api_factory: ApiFactory
    state: AppState = field(default_factory=AppState)
    cwd: Path | None = None
    interactive: bool = False

    @classmethod
    def default(cls, state: AppState) -> Deps:
        out = Output()
        clock = SystemClock()

        def api_factory(base_url: str, credential: Credential | None) -> ApiClient:
            from better_skills.client._transport import ApiClient  # httpx: only when needed

            return ApiClient(base_url, credential=credential, clock=clock)

        return cls(
            out=out,
            environ=os.environ,
            store=SessionStore(default_session_path(os.environ), on_notice=out.warn),
            browser=SystemBrowser(),
            clock=clock,
            api_factory=api_factory,
            state=state,
            interactive=_isatty(sys.stdin),
        )

    def resolve_server(self, flag: str | None) -> ServerUrl:
        """The server for this command: its ``--server``, the root ``--server``, then config."""
        flag = flag if flag is not None else self.state.server_flag
        try:
            server = resolve_server_url(
                flag, environ=self.environ, cwd=self.cwd, on_notice=self.out.warn
            )
        except ConfigError as exc:
            if flag is not None:  # a bad --server is a usage error (exit 2), like any bad option
                raise click.UsageError(exc.message) from None
            raise
        self.state.server = server
        return server

    def credentials(self, server: ServerUrl) -> Credential:
        """The token to use on ``server``: ``BETTER_SKILLS_TOKEN``, else the session file.

        Raises :class:`NotAuthenticated` (exit 4) when there is no session or it has expired
        (known locally, without asking the server), and ``SessionFileError`` (exit 4) for a
        damaged file.
        """
        env_token = token_from_env(self.environ)
        if env_token is not None:
            if server.from_dotenv:
                raise NotAuthenticated(
                    f"{TOKEN_ENV} is not sent to {server.url}: that server is named only by "
                    f"{server.source}, and any repository can contain a .env file.",
                    hints=(
                        "Set SERVER_URL in the environment or pass --server to use that server "
                        "with the token.",
                    ),
                )
            return Credential(env_token, TOKEN_TYPE, "environment")
        stored = self.store.load()
        if stored is None:
            raise NotAuthenticated(
                f"Not logged in (there is no session file at {self.store.path})."
            )
        if stored.server is not None and not same_server(stored.server, server.url):
            raise CredentialServerMismatch(stored.server, server.url)
        now = self.clock.now()
        if stored.is_expired(now):
            raise NotAuthenticated(
                "session invalid or expired: the session expired "
                f"{format_relative(stored.expires_at, now)}."
            )
        return stored.credential()

    def api(self, server: ServerUrl | str, credential: Credential | None = None) -> ApiClient:
        """An HTTP client for ``server`` holding ``credential`` (sent by calls with ``auth``)."""
        url = server if isinstance(server, str) else server.url
        client = self.api_factory(url, credential)
        if credential is not None and credential.source == "session_file" and not credential.server:
            client.on_accepted = lambda accepted: self._bind_session(accepted, url)
        return client

    def _bind_session(self, credential: Credential, server_url: str) -> None:
        """Record the server of a session file that names none (the original CLI's), once that
        server has accepted its token: from then on the token goes nowhere else."""
        with contextlib.suppress(ClientError):
            current = self.store.load()
            if current is not None and current.server is None and current == credential.stored:
                self.store.save(dataclasses.replace(current, server=server_url))

    def auth_client(
        self, server: ServerUrl | str, credential: Credential | None = None
    ) -> AuthClient:
        """The auth API of ``server``."""
        from better_skills.client.api import AuthClient

        return AuthClient(self.api(server, credential))


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def unreachable_hints(state: AppState) -> list[str]:
    """The documentation's "Server Unreachable" steps; the first names where the URL came from."""
    server = state.server
    if server is None or server.source == "the SERVER_URL environment variable":
        now = f" (now {server.url})" if server is not None else ""
        first = f"Check your SERVER_URL environment variable{now}."
    elif server.source == "--server":
        first = f"Check the URL given with --server (now {server.url})."
    elif server.from_dotenv:
        first = f"Check {server.source} (now {server.url})."
    else:
        first = (
            f"Set SERVER_URL or pass --server: none is set, so the default {server.url} is used."
        )
    hints = [f"1. {first}", "2. Verify the server is running.", "3. Check network connectivity."]
    if state.command != "health":
        hints.append("Run `better-skills health` to test the connection.")
    return hints


def exit_codes_epilog(codes: Mapping[int, str]) -> str:
    """A command's help epilog listing the exit codes it can return, and only those."""
    lines = [f"  {code:<4} {meaning}" for code, meaning in codes.items()]
    return "\b\nExit codes:\n" + "\n".join(lines)


def server_option(func: F) -> F:
    return click.option(
        "--server",
        metavar="URL",
        help="Server URL; overrides SERVER_URL and .env (default http://localhost:3000).",
    )(func)


def json_option(func: F) -> F:
    """``--json``; also tells the error reporter to print errors as JSON on stdout."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        state = ctx.find_object(AppState)
        if state is not None and value:
            state.as_json = True
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=remember,
        help="Print a machine-readable result as JSON on stdout.",
    )(func)
