"""``better-skills-server admin ...``: what a server administrator does from a shell, on the
database the settings name (migrated first), without a running server.

* ``admin create-vault NAME --owner EMAIL [--slug S] [--color HEX]``: a team vault owned by
  an existing account, whatever TEAM_VAULTS says;
* ``admin grant EMAIL`` / ``admin revoke EMAIL``: make an account a server administrator
  (who may create team vaults when TEAM_VAULTS=admins), or stop it being one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from better_skills.protocol import errors
from better_skills.server.settings import Settings

#: Exit code when the database refuses what the command asks (no such account, slug taken).
EXIT_REFUSED = 4


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    admin = subparsers.add_parser("admin", help="Administer the server's accounts and vaults.")
    commands = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")
    create = commands.add_parser("create-vault", help="Create a team vault owned by EMAIL.")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--owner", required=True, metavar="EMAIL", help="The owner's email.")
    create.add_argument("--slug", help="The vault's slug (default: NAME made URL-safe).")
    create.add_argument("--color", metavar="HEX", help="Its colour, #RRGGBB.")
    grant = commands.add_parser("grant", help="Make EMAIL a server administrator.")
    grant.add_argument("email", metavar="EMAIL")
    revoke = commands.add_parser("revoke", help="Make EMAIL an ordinary account again.")
    revoke.add_argument("email", metavar="EMAIL")


async def _run(args: argparse.Namespace, settings: Settings) -> str:
    from better_skills.server.db import migrate
    from better_skills.server.services.container import Services

    services = Services.build(settings)
    try:
        await migrate(services.db.engine)
        if args.admin_command == "create-vault":
            await services.vaults.ensure_defaults()
            vault = await services.teams.admin_create_vault(
                args.name, args.owner, args.slug, args.color
            )
            return f"created the team vault {vault.slug} ({vault.id}), owned by {args.owner}"
        granted = args.admin_command == "grant"
        email = await services.teams.set_admin(args.email, granted)
        what = "is now a server administrator" if granted else "is no longer an administrator"
        return f"{email} {what}"
    finally:
        await services.db.dispose()


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        message = asyncio.run(_run(args, settings))
    except errors.OAuthError as exc:
        print(f"better-skills-server admin: {exc.description}", file=sys.stderr)
        return EXIT_REFUSED
    print(message)
    return 0
