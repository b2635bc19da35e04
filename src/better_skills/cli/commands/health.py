"""``better-skills health``: is the server up, which version, how far away."""

from __future__ import annotations

from dataclasses import dataclass

import click

from better_skills.cli.common import COMMAND_EPILOG, AppState, Deps, json_option, server_option
from better_skills.client.errors import ServerUnhealthy, ServerUnreachable

__all__ = ["HealthOptions", "command", "run"]


@dataclass(frozen=True)
class HealthOptions:
    server: str | None = None
    as_json: bool = False


@click.command("health", epilog=COMMAND_EPILOG)
@server_option
@json_option
@click.pass_context
def command(ctx: click.Context, server: str | None, as_json: bool) -> int:
    """Check the server: URL, status, version, database and round-trip time.

    Exits with code 1 when the server is unreachable or unhealthy, and says what to check.
    """
    return run(HealthOptions(server, as_json), Deps.default(ctx.ensure_object(AppState)))


def run(options: HealthOptions, deps: Deps) -> int:
    """Print the server's health; raises :class:`ServerUnreachable` or :class:`ServerUnhealthy`."""
    out = deps.out
    server = deps.resolve_server(options.server)
    try:
        with deps.auth_client(server) as client:
            health = client.health()
    except ServerUnreachable as exc:
        if options.as_json:  # the result, not the error: the error is main's to report
            out.json({"server": server.url, "reachable": False, "error": exc.reason})
        raise

    round_trip_ms = round(health.round_trip * 1000, 1)
    if options.as_json:
        out.json(
            {
                "server": server.url,
                "reachable": True,
                "status": health.status,
                "version": health.version,
                "database": health.database,
                "httpStatus": health.http_status,
                "roundTripMs": round_trip_ms,
            }
        )
    else:
        colour = "green" if health.ok else "red"
        rows = [
            ("Server", server.url),
            ("Status", out.style(health.status, colour, "bold", err=False)),
            ("Version", health.version or "unknown"),
        ]
        if health.database is not None:
            db_colour = "green" if health.database == "ok" else "red"
            rows.append(("Database", out.style(health.database, db_colour, err=False)))
        rows.append(("Round trip", f"{round_trip_ms:g} ms"))
        out.table(rows)
    if not health.ok:
        raise ServerUnhealthy(
            f"The server at {server.url} is not healthy (HTTP {health.http_status}).",
            hints=["Its database may be down; check the server's log."]
            if health.database not in (None, "ok")
            else [],
        )
    return 0
