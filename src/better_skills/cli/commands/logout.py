"""``better-skills logout``: end the session on the server (if reachable) and delete the file."""

from __future__ import annotations

from dataclasses import dataclass

import click

from better_skills.cli.common import AppState, Deps, exit_codes_epilog, json_option, server_option
from better_skills.cli.output import format_local_time
from better_skills.client.config import TOKEN_ENV, same_server, token_from_env
from better_skills.client.errors import (
    ApiError,
    CredentialServerMismatch,
    ServerUnreachable,
    SessionFileError,
)

__all__ = ["LogoutOptions", "command", "run"]


@dataclass(frozen=True)
class LogoutOptions:
    server: str | None = None
    as_json: bool = False


EPILOG = exit_codes_epilog(
    {
        0: "the session file is deleted (or there was none); the output says what the server did",
        1: "the session file cannot be deleted, or SERVER_URL is invalid",
        2: "usage error",
        4: "the session belongs to another server: nothing was sent or deleted",
        130: "interrupted (Ctrl-C)",
    }
)


@click.command("logout", epilog=EPILOG)
@server_option
@json_option
@click.pass_context
def command(ctx: click.Context, server: str | None, as_json: bool) -> int:
    """Sign out on the server and delete the local session file.

    Works offline too: if the server cannot be reached within a few seconds the file is
    deleted anyway (the session then stays valid on the server until it expires).
    """
    return run(LogoutOptions(server, as_json), Deps.default(ctx.ensure_object(AppState)))


def run(options: LogoutOptions, deps: Deps) -> int:
    """Log out; always exit 0 unless the file cannot be deleted."""
    out = deps.out
    server = deps.resolve_server(options.server)
    path = deps.store.path
    if token_from_env(deps.environ):
        out.warn(
            f"{TOKEN_ENV} is set and overrides the session file; logout does not touch it. "
            "Unset it to stop using that token."
        )

    try:
        stored = deps.store.load()
    except SessionFileError as exc:
        deps.store.delete()
        out.success(f"The session file {path} {exc.reason}; deleted it.")
        return _json(deps, options, server.url, "no_session", deleted=True)

    if stored is None:
        out.info(f"Not logged in (no session file at {path}); nothing to do.")
        return _json(deps, options, server.url, "no_session", deleted=False)

    server_result: str
    if stored.is_expired(deps.clock.now()):
        server_result = "expired"  # nothing to send: no server is asked
    elif stored.server is not None and not same_server(stored.server, server.url):
        # The token goes to no server but its own; the file stays, for that server's logout.
        raise CredentialServerMismatch(
            stored.server,
            server.url,
            hints=(f"Run `better-skills logout --server {stored.server}` to sign out there.",),
        )
    else:
        try:
            with deps.auth_client(server) as client:
                server_result = client.sign_out(stored.credential())
        except ServerUnreachable:
            server_result = "unreachable"
        except ApiError:
            server_result = "failed"

    deps.store.delete()

    if server_result == "signed_out":
        out.success(f"Signed out on {server.url}.")
    elif server_result in ("expired", "already_invalid"):
        out.info(f"The session had already ended on {server.url}.")
    elif server_result == "token_kept":
        out.info(
            f"The personal access token stays valid on {server.url}: revoke it on the account "
            "page (/account) to end it."
        )
    elif server_result == "unconfirmed":
        out.warn(
            f"This server did not confirm the sign-out ({server.url} did not answer as a "
            "better-skills server); the session may stay valid on the server that issued it "
            f"until {format_local_time(stored.expires_at)}."
        )
    elif server_result == "unreachable":
        out.warn(
            f"Could not reach {server.url} to sign out; the session stays valid there until "
            f"{format_local_time(stored.expires_at)}."
        )
    else:
        out.warn(
            f"{server.url} did not confirm the sign-out; the session may stay valid there until "
            f"{format_local_time(stored.expires_at)}."
        )
    out.success(f"Deleted the session file {path}.")
    return _json(deps, options, server.url, server_result, deleted=True)


def _json(deps: Deps, options: LogoutOptions, server: str, result: str, *, deleted: bool) -> int:
    if options.as_json:
        deps.out.json(
            {
                "server": server,
                "serverSignOut": result,
                "sessionFile": str(deps.store.path),
                "sessionFileDeleted": deleted,
            }
        )
    return 0
