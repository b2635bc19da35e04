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
    "EXIT_CONFLICT",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_AUTHENTICATED",
    "EXIT_NOT_FOUND",
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
EXIT_NOT_FOUND = 3
EXIT_NOT_AUTHENTICATED = 4
EXIT_CONFLICT = 5
EXIT_INTERRUPTED = 130

#: name -> (module defining ``command``, or ``module:attribute``; one-line help shown by
#: ``better-skills --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "login": ("better_skills.cli.commands.login", "Log in with your browser (device code)."),
    "logout": ("better_skills.cli.commands.logout", "Sign out and delete the local session."),
    "whoami": ("better_skills.cli.commands.whoami", "Show who is logged in, and until when."),
    "health": ("better_skills.cli.commands.health", "Check that the server is reachable."),
    # sync and the local side of the vault (branch sync): keep these lines together
    "sync": ("better_skills.cli.commands.sync", "Install your vaults' skills for your agents."),
    "config": ("better_skills.cli.commands.config", "Choose the agents that get your skills."),
    "status": ("better_skills.cli.commands.status", "Show installed skills and their state."),
    "unmanaged": ("better_skills.cli.commands.unmanaged", "List skills not managed by sync."),
    "get-unmanaged-skills": ("better_skills.cli.commands.unmanaged", "Alias of `unmanaged`."),
    "backup": ("better_skills.cli.commands.backup", "Copy local skill folders to a backup."),
    "adopt": ("better_skills.cli.commands.adopt", "Upload your own skill folders, then sync them."),
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
# Online skill commands over /api/v1 (branch vault-cli): keep these lines together.
COMMANDS |= {
    "list": ("better_skills.cli.commands.list_skills", "List the skills of your vaults."),
    "search": ("better_skills.cli.commands.search", "Search your skills, best match first."),
    "get": ("better_skills.cli.commands.get", "Show a skill and its SKILL.md, or one file."),
    "clone": ("better_skills.cli.commands.clone", "Copy a skill into a local folder."),
    "create": ("better_skills.cli.commands.create", "Upload a new skill from a folder."),
    "update": ("better_skills.cli.commands.update", "Replace a skill with a folder's files."),
    "diff": ("better_skills.cli.commands.diff", "Show what `update` would change."),
    "delete": ("better_skills.cli.commands.delete", "Delete a skill."),
    "references": ("better_skills.cli.commands.references", "Skills that mention a skill."),
    "vaults": ("better_skills.cli.commands.vaults", "List your vaults; manage team vaults."),
    "enable": (
        "better_skills.cli.commands.vaults:enable_command",
        "Include a vault in sync again.",
    ),
    "disable": ("better_skills.cli.commands.vaults:disable_command", "Leave a vault out of sync."),
}

# Shares (branch shares): keep these lines together.
COMMANDS |= {
    "share": ("better_skills.cli.commands.shares:share_command", "Share a skill: print its link."),
    "shares": ("better_skills.cli.commands.shares:list_command", "List your shares."),
    "unshare": ("better_skills.cli.commands.shares:unshare_command", "Revoke a share."),
    "install-share": (
        "better_skills.cli.commands.shares:install_command",
        "Install a share's skills for your agents.",
    ),
    "import-share": (
        "better_skills.cli.commands.shares:import_command",
        "Copy a share into your personal vault.",
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
  3    not found: no such skill, vault or file (or not yours)
  4    not authenticated: run `better-skills login`
  5    conflict: an ambiguous slug, a taken slug, or a skill changed since you cloned it
  130  interrupted (Ctrl-C)
"""


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
        # click turns Ctrl-C into Abort after printing a newline.
        if isinstance(exc.__cause__, KeyboardInterrupt):
            return _interrupted(state)
        _report_message("Aborted.")
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        if state.as_json:
            from better_skills.cli.output import Output

            Output().json(error_object(exc, state, exc.exit_code, exc.format_message()))
        return exc.exit_code
    except KeyboardInterrupt:
        return _interrupted(state)
    except SystemExit as exc:  # click exits 1 itself on a broken pipe
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except Exception as exc:
        code = exit_code_for(exc)
        if code is None:
            raise  # a bug: the traceback is what a report needs
        _report(exc, state, code)
        return code
    return result if isinstance(result, int) else EXIT_OK


def exit_code_for(error: BaseException) -> int | None:
    """The exit code of an error the user can act on; ``None`` for anything else (a bug)."""
    import click

    from better_skills.client.errors import (
        ClientError,
        Conflict,
        NotAuthenticated,
        NotFound,
        SessionFileError,
    )
    from better_skills.protocol.errors import OAuthError

    table: tuple[tuple[type[BaseException], int], ...] = (
        # run() catches Ctrl-C before this table (it has its own message); the row keeps
        # the table complete for anyone who asks it about an interrupt.
        (KeyboardInterrupt, EXIT_INTERRUPTED),
        (click.UsageError, EXIT_USAGE),
        (NotAuthenticated, EXIT_NOT_AUTHENTICATED),
        (SessionFileError, EXIT_NOT_AUTHENTICATED),
        (NotFound, EXIT_NOT_FOUND),
        (Conflict, EXIT_CONFLICT),
        (ClientError, EXIT_ERROR),
        (OAuthError, EXIT_ERROR),
    )
    for error_class, code in table:
        if isinstance(error, error_class):
            return code
    return None


def _report(error: Exception, state: AppState, code: int) -> None:
    """The one place errors are shown: a message and hints on stderr, and with ``--json`` an
    error object on stdout as well."""
    from better_skills.cli.common import unreachable_hints
    from better_skills.cli.output import Output
    from better_skills.client.errors import ClientError, ServerUnreachable
    from better_skills.client.text import clean
    from better_skills.protocol.errors import AccessDenied, ExpiredToken, OAuthError

    out = Output()
    hints: tuple[str, ...] = ()
    message = str(error)
    if isinstance(error, ServerUnreachable):
        message, hints = error.message, tuple(unreachable_hints(state))
    elif isinstance(error, ClientError):
        message, hints = error.message, error.hints
    elif isinstance(error, AccessDenied):
        message = "Login was denied in the browser."
    elif isinstance(error, ExpiredToken):
        message = "Login code expired. Run `better-skills login` again."
    elif isinstance(error, OAuthError):
        detail = f": {clean(error.description)}" if error.description else ""
        message = f"The server refused the request ({clean(error.error)}){detail}"
    out.error(message, hints)
    if state.as_json:
        out.json(error_object(error, state, code, message, hints))


def error_object(
    error: BaseException, state: AppState, code: int, message: str, hints: tuple[str, ...] = ()
) -> dict[str, object]:
    """The ``--json`` form of an error: ``{"error", "message", "hints", "exitCode", ...}``."""
    import click

    from better_skills.client.errors import ClientError, ServerUnreachable
    from better_skills.protocol.errors import OAuthError

    kind = "error"
    if isinstance(error, ClientError):
        kind = error.code
    elif isinstance(error, OAuthError):
        kind = error.error
    elif isinstance(error, click.UsageError):
        kind = "usage"
    result: dict[str, object] = {"error": kind, "message": message, "hints": list(hints)}
    if state.server is not None:
        result["server"] = state.server.url
    if isinstance(error, ServerUnreachable):
        result.update(reachable=False, reason=error.reason)
    if isinstance(error, ClientError):
        result.update(error.data)
    result["exitCode"] = code
    return result


def _interrupted(state: AppState) -> int:
    """Ctrl-C: quiet, except that a login says it was cancelled (nothing was saved)."""
    if state.command == "login":
        _report_message("Login cancelled.")
    return EXIT_INTERRUPTED


def _report_message(message: str) -> None:
    from better_skills.cli.output import Output

    Output().error(message)


def build_cli() -> click.Group:
    """The root group; subcommands are imported on first use."""
    import click

    from better_skills.cli.common import AppState, server_option

    class LazyGroup(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return list(COMMANDS)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            entry = COMMANDS.get(cmd_name)
            if entry is None:
                return None
            import importlib

            module, _, attribute = entry[0].partition(":")
            loaded = importlib.import_module(module)
            command: click.Command = getattr(loaded, attribute or "command")
            return command

        def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            with formatter.section("Commands"):
                formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])

    @click.group(
        cls=LazyGroup,
        name=PROG_NAME,
        help=ROOT_HELP,
        epilog=ROOT_EPILOG,
        invoke_without_command=True,  # bare `better-skills` prints the help and exits 0
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @server_option
    @click.version_option(
        __version__, "-V", "--version", prog_name=PROG_NAME, message="%(prog)s %(version)s"
    )
    @click.pass_context
    def cli(ctx: click.Context, server: str | None) -> None:
        state = ctx.ensure_object(AppState)
        state.server_flag = server
        state.command = ctx.invoked_subcommand
        if ctx.invoked_subcommand is None:
            click.echo(ctx.get_help())

    return cli


if __name__ == "__main__":
    main()
