"""``better-skills health``: is the server up, which version, how far away."""

from __future__ import annotations

from dataclasses import dataclass

import click

from better_skills.cli.common import AppState, Deps, exit_codes_epilog, json_option, server_option
from better_skills.client.errors import ServerUnhealthy

__all__ = ["HealthOptions", "command", "run"]


@dataclass(frozen=True)
class HealthOptions:
    server: str | None = None
    as_json: bool = False


EPILOG = exit_codes_epilog(
    {
        0: "the server is reachable and healthy",
        1: "unreachable, unhealthy, or not a better-skills server",
        2: "usage error",
        130: "interrupted (Ctrl-C)",
    }
)


@click.command("health", epilog=EPILOG)
@server_option
@json_option
@click.pass_context
def command(ctx: click.Context, server: str | None, as_json: bool) -> int:
    """Check the server: URL, status, version, database and round-trip time.

    Exits with code 1 when the server is unreachable or unhealthy, and says what to check.
    """
    return run(HealthOptions(server, as_json), Deps.default(ctx.ensure_object(AppState)))


def run(options: HealthOptions, deps: Deps) -> int:
    """Print the server's health; raises :class:`ServerUnreachable` or :class:`ServerUnhealthy`.

    With ``--json`` a healthy server's answer is the result on stdout; an unreachable or
    unhealthy one is an error, which ``main`` prints as a JSON error object (with the same
    fields).
    """
    out = deps.out
    server = deps.resolve_server(options.server)
    with deps.auth_client(server) as client:
        health = client.health()
    round_trip_ms = round(health.round_trip * 1000, 1)
    result = {
        "server": server.url,
        "reachable": True,
        "status": health.status,
        "version": health.version,
        "database": health.database,
        "httpStatus": health.http_status,
        "roundTripMs": round_trip_ms,
    }
    if options.as_json:
        if health.ok:
            out.json(result)
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
            data=result,
        )
    return 0
