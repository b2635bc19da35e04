"""Entry point of ``better-skills``: the root command group and the one error -> exit-code table.

Start-up speed is a feature: ``--version`` is answered before click is even imported, commands
are imported only when run (and import httpx only when they talk to the server), and ``--help``
lists commands from the table below without importing them.
"""

from __future__ import annotations

import sys

from better_skills import __version__

# Not `from typing import TYPE_CHECKING`: importing typing is a third of --version's budget.
# Type checkers treat any constant named TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    import click

    from better_skills.cli.common import AppState

__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_AUTHENTICATED",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_cli",
    "exit_code_for",
    "main",
    "run",
]

PROG_NAME = "better-skills"

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_AUTHENTICATED = 4
EXIT_INTERRUPTED = 130

#: name -> (module defining ``command``, one-line help shown by ``better-skills --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "login": ("better_skills.cli.commands.login", "Log in with your browser (device code)."),
    "logout": ("better_skills.cli.commands.logout", "Sign out and delete the local session."),
    "whoami": ("better_skills.cli.commands.whoami", "Show who is logged in, and until when."),
    "health": ("better_skills.cli.commands.health", "Check that the server is reachable."),
}
# Offline commands on a local skill folder (branch skillfmt): keep these lines together.
COMMANDS |= {
    "init": ("better_skills.cli.commands.init", "Create a new skill folder with a SKILL.md."),
    "validate": ("better_skills.cli.commands.validate", "Check a skill folder before upload."),
    "rewrite-links": (
        "better_skills.cli.commands.rewrite_links",
        "Turn local links in a skill folder into mentions.",
    ),
}

ROOT_HELP = """Keep skills on a better-skills server and sync them to every coding agent.

Start with `better-skills login`; `better-skills COMMAND --help` explains each command.
"""

ROOT_EPILOG = """\b
Environment:
  SERVER_URL           Server to use (default http://localhost:3000; also read from
                       a .env file in the project root). --server overrides it.
  BETTER_SKILLS_TOKEN  Use this token instead of the session file (for CI).
  XDG_CONFIG_HOME      The session is kept in $XDG_CONFIG_HOME/better-skills/session.json
                       (default ~/.config/better-skills/session.json).
  NO_COLOR             Set to turn colour off.

\b
Exit codes:
  0    success
  1    error (server unreachable, login denied or expired, ...)
  2    usage error (unknown option, bad argument)
  4    not authenticated: run `better-skills login`
  130  interrupted (Ctrl-C)
"""

COMMAND_EPILOG = "Exit codes: 0 ok, 1 error, 2 usage, 4 not authenticated, 130 interrupted."


def main(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args in (["--version"], ["-V"]):
        # The common case answered without importing click (~20 ms saved).
        sys.stdout.write(f"{PROG_NAME} {__version__}\n")
        sys.exit(EXIT_OK)
    sys.exit(run(args))


def run(args: list[str]) -> int:
    """Run the CLI and return the exit code; every error is reported here, once."""
    import click

    from better_skills.cli.common import AppState

    state = AppState()
    try:
        result = build_cli().main(args, prog_name=PROG_NAME, standalone_mode=False, obj=state)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort after printing a newline; nothing else is written.
        if isinstance(exc.__cause__, KeyboardInterrupt):
            return EXIT_INTERRUPTED
        _report_message("Aborted.")
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # click exits 1 itself on a broken pipe
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except Exception as exc:
        code = exit_code_for(exc)
        if code is None:
            raise  # a bug: the traceback is what a report needs
        _report(exc, state)
        return code
    return result if isinstance(result, int) else EXIT_OK


def exit_code_for(error: BaseException) -> int | None:
    """The exit code of an error the user can act on; ``None`` for anything else (a bug)."""
    import click

    from better_skills.client.errors import ClientError, NotAuthenticated, SessionFileError
    from better_skills.protocol.errors import OAuthError

    table: tuple[tuple[type[BaseException], int], ...] = (
        (KeyboardInterrupt, EXIT_INTERRUPTED),
        (click.UsageError, EXIT_USAGE),
        (NotAuthenticated, EXIT_NOT_AUTHENTICATED),
        (SessionFileError, EXIT_NOT_AUTHENTICATED),
        (ClientError, EXIT_ERROR),
        (OAuthError, EXIT_ERROR),
    )
    for error_class, code in table:
        if isinstance(error, error_class):
            return code
    return None


def _report(error: Exception, state: AppState) -> None:
    from better_skills.cli.output import Output
    from better_skills.client.errors import ClientError, ServerUnreachable
    from better_skills.client.text import clean
    from better_skills.protocol.errors import AccessDenied, ExpiredToken, OAuthError

    out = Output()
    if isinstance(error, ServerUnreachable):
        out.error(error.message, unreachable_hints(state))
    elif isinstance(error, ClientError):
        out.error(error.message, error.hints)
    elif isinstance(error, AccessDenied):
        out.error("Login was denied in the browser.")
    elif isinstance(error, ExpiredToken):
        out.error("Login code expired. Run `better-skills login` again.")
    elif isinstance(error, OAuthError):
        detail = f": {clean(error.description)}" if error.description else ""
        out.error(f"The server refused the request ({clean(error.error)}){detail}")


def unreachable_hints(state: AppState) -> list[str]:
    """The documentation's "Server Unreachable" steps, with the URL in use and its source."""
    where = ""
    if state.server is not None:
        where = f" (now {state.server.url}, from {state.server.source})"
    hints = [
        f"1. Check your SERVER_URL environment variable{where}.",
        "2. Verify the server is running.",
        "3. Check network connectivity.",
    ]
    if state.command != "health":
        hints.append("Run `better-skills health` to test the connection.")
    return hints


def _report_message(message: str) -> None:
    from better_skills.cli.output import Output

    Output().error(message)


def build_cli() -> click.Group:
    """The root group; subcommands are imported on first use."""
    import click

    from better_skills.cli.common import AppState

    class LazyGroup(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return list(COMMANDS)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            entry = COMMANDS.get(cmd_name)
            if entry is None:
                return None
            import importlib

            command: click.Command = importlib.import_module(entry[0]).command
            return command

        def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            with formatter.section("Commands"):
                formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])

    @click.group(
        cls=LazyGroup,
        name=PROG_NAME,
        help=ROOT_HELP,
        epilog=ROOT_EPILOG,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.option(
        "--server",
        metavar="URL",
        help="Server URL; overrides SERVER_URL and .env (default http://localhost:3000).",
    )
    @click.version_option(
        __version__, "-V", "--version", prog_name=PROG_NAME, message="%(prog)s %(version)s"
    )
    @click.pass_context
    def cli(ctx: click.Context, server: str | None) -> None:
        state = ctx.ensure_object(AppState)
        state.server_flag = server
        state.command = ctx.invoked_subcommand

    return cli


if __name__ == "__main__":
    main()
