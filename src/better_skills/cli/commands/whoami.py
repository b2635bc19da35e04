"""``better-skills whoami``: who the current session belongs to, and until when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import click

from better_skills.cli.common import AppState, Deps, exit_codes_epilog, json_option, server_option
from better_skills.cli.output import format_local_time, format_relative
from better_skills.client.config import TOKEN_ENV
from better_skills.client.credentials import Credential
from better_skills.client.errors import NotAuthenticated
from better_skills.protocol.wire import format_timestamp

__all__ = ["WhoamiOptions", "command", "run"]


@dataclass(frozen=True)
class WhoamiOptions:
    server: str | None = None
    as_json: bool = False


EPILOG = exit_codes_epilog(
    {
        0: "logged in: the session is shown",
        1: "server unreachable or another error",
        2: "usage error",
        4: "not logged in, session expired or refused, or a session of another server",
        130: "interrupted (Ctrl-C)",
    }
)


@click.command("whoami", epilog=EPILOG)
@server_option
@json_option
@click.pass_context
def command(ctx: click.Context, server: str | None, as_json: bool) -> int:
    """Show who is logged in, on which server, and when the session expires.

    Exits with code 4 when there is no session, when it has expired, or when the server no
    longer accepts it; run `better-skills login` then.
    """
    return run(WhoamiOptions(server, as_json), Deps.default(ctx.ensure_object(AppState)))


def run(options: WhoamiOptions, deps: Deps) -> int:
    """Print the session; raises :class:`NotAuthenticated` (exit 4) when there is none."""
    out = deps.out
    server = deps.resolve_server(options.server)
    now = deps.clock.now()
    credential = deps.credentials(server)
    stored = credential.stored
    env_token = credential.source == "environment"
    with deps.auth_client(server, credential) as client:
        info = client.get_session()
    if info is None:
        raise _refused(server.url, credential)

    created = info.created_at or (stored.created_at if stored else None)
    expires = info.expires_at or (stored.expires_at if stored else None)
    source_label = f"{TOKEN_ENV} environment variable" if env_token else str(deps.store.path)

    if options.as_json:
        out.json(
            {
                "user": {"id": info.user.id, "name": info.user.name, "email": info.user.email},
                "server": server.url,
                "tokenSource": "environment" if env_token else "session_file",
                "sessionFile": None if env_token else str(deps.store.path),
                "createdAt": format_timestamp(created) if created else None,
                "expiresAt": format_timestamp(expires) if expires else None,
            }
        )
        return 0

    def when(moment: datetime | None) -> str:
        if moment is None:
            return "unknown"
        return f"{format_local_time(moment)} ({format_relative(moment, now)})"

    user = info.user.name or "(no name)"
    if info.user.email:
        user = f"{user} <{info.user.email}>"
    out.table(
        [
            ("User", out.style(user, "bold", err=False)),
            ("Server", server.url),
            ("Token", f"from {source_label}"),
            ("Created", when(created)),
            ("Expires", when(expires)),
        ]
    )
    return 0


def _refused(server: str, credential: Credential) -> NotAuthenticated:
    if credential.source == "environment":
        return NotAuthenticated(
            f"The server at {server} does not accept the token in {TOKEN_ENV}.",
            hints=(f"Replace the token in {TOKEN_ENV}, or unset it to use the session file.",),
        )
    return NotAuthenticated(
        f"session invalid or expired: the server at {server} does not accept the session."
    )
