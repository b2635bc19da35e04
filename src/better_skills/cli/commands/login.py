"""``better-skills login``: the OAuth 2.0 device authorization flow (RFC 8628).

The protocol lives in :mod:`better_skills.client.api`; this module only supplies the user
interface around it (show the code, open the browser, a status line) and saves the session.

About 400 lines, kept in one module: they are one command's dialogue (the check of an
existing session, the code screen and the wait, ``--with-token``, the report), whose steps
share the options, the previous session and the report; apart, each would import the others.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from better_skills.cli.common import AppState, Deps, exit_codes_epilog, json_option, server_option
from better_skills.cli.output import format_countdown, format_local_time, format_relative
from better_skills.client.config import TOKEN_ENV, same_server, token_from_env
from better_skills.client.credentials import Credential
from better_skills.client.errors import (
    ClientError,
    NotAuthenticated,
    ServerUnreachable,
    SessionFileError,
    SessionStoreUnwritable,
)
from better_skills.client.session_store import StoredSession
from better_skills.protocol.device_flow import MAX_HOSTNAME, TOKEN_TYPE
from better_skills.protocol.wire import format_timestamp, is_header_safe

if TYPE_CHECKING:
    from better_skills.client.api import (
        AuthClient,
        DeviceAuthorization,
        PollProgress,
        SessionInfo,
        TokenGrant,
    )
    from better_skills.client.config import ServerUrl

__all__ = ["LoginOptions", "command", "run"]

#: The documented default session lifetime, used only if the server names none.
FALLBACK_SESSION_LIFETIME = timedelta(hours=8)
#: A personal access token lives at most a year; used only if the server names no expiry.
MAX_TOKEN_LIFETIME = timedelta(days=366)
_MAX_TOKEN_INPUT = 8192


@dataclass(frozen=True)
class LoginOptions:
    server: str | None = None
    no_browser: bool = False
    qr: bool = False
    as_json: bool = False
    force: bool = False
    with_token: bool = False


EPILOG = exit_codes_epilog(
    {
        0: "logged in (or kept the current session)",
        1: "denied, expired, server unreachable, or another error",
        2: "usage error (with --with-token: no token on standard input)",
        4: "with --with-token: the server does not accept the token",
        130: "interrupted (Ctrl-C)",
    }
)


@click.command("login", epilog=EPILOG)
@server_option
@click.option("--no-browser", is_flag=True, help="Do not open a browser; only print the URL.")
@click.option("--qr", is_flag=True, help="Also show the login URL as a QR code (for a phone).")
@json_option
@click.option("-f", "--force", is_flag=True, help="Replace a valid session without asking.")
@click.option(
    "--with-token",
    is_flag=True,
    help="Read a personal access token from standard input and save it as the session.",
)
@click.pass_context
def command(
    ctx: click.Context,
    server: str | None,
    no_browser: bool,
    qr: bool,
    as_json: bool,
    force: bool,
    with_token: bool,
) -> int:
    """Log in with your browser (OAuth device code flow).

    Prints a URL and a one-time code, opens the URL in your browser, and waits while you
    approve the request there. Then the session is saved to
    $XDG_CONFIG_HOME/better-skills/session.json (default ~/.config/better-skills/).

    Over SSH or without a display, open the URL on any device (--qr helps with a phone).

    For CI and servers: create a personal access token on the server's /account page, then
    `better-skills login --with-token < token.txt` checks it and saves it as the session.
    """
    options = LoginOptions(server, no_browser, qr, as_json, force, with_token)
    return run(options, Deps.default(ctx.ensure_object(AppState)))


def run(options: LoginOptions, deps: Deps) -> int:
    """Log in; raises ``AccessDenied``/``ExpiredToken``/:class:`ClientError` on failure."""
    out = deps.out
    server = deps.resolve_server(options.server)
    if token_from_env(deps.environ):
        out.warn(
            f"{TOKEN_ENV} is set: it overrides the session file, so commands keep using that "
            "token until you unset it."
        )
    if options.with_token:
        return _login_with_token(options, deps, server)
    with deps.auth_client(server) as client:
        previous, keep = _check_existing_session(options, deps, client)
        if keep:
            if options.as_json:
                out.json(
                    {"status": "kept", "server": server.url, "sessionFile": str(deps.store.path)}
                )
            return 0
        authorization = client.request_device_code(hostname=machine_name())
        _show_code(deps, authorization, options)
        if not authorization.same_host:
            # A phishing aid: the page that asks for the password is elsewhere. Say so, and
            # leave opening it to the person.
            out.warn(
                f"The login page is not on {server.url}: open it only if you trust that site. "
                "Not opening a browser."
            )
        elif not options.no_browser:
            _open_browser(deps, authorization.browser_url)
        grant = _wait_for_approval(deps, client, authorization)
        session, info = _make_session(deps, client, grant, server)
        try:
            deps.store.save(session)
        except SessionStoreUnwritable:
            # Nobody could use this token again; do not leave it valid on the server.
            with contextlib.suppress(ClientError):
                client.sign_out(session.credential())
            raise
        if previous is not None and previous.access_token != session.access_token:
            # The replaced session would stay valid on its server for hours; end it.
            _end_previous(deps, client, previous)
    _report_success(deps, server, session, info, options)
    return 0


def _login_with_token(options: LoginOptions, deps: Deps, server: ServerUrl) -> int:
    """``--with-token``: a token from standard input, checked with the server, then saved."""
    token = _read_token(deps)
    credential = Credential(token, TOKEN_TYPE, server=server.url)
    with deps.auth_client(server) as client:
        info = client.get_session(credential)
        if info is None:
            raise NotAuthenticated(
                f"The server at {server.url} does not accept the token from standard input.",
                hints=("Check that you copied the whole token and that it has not expired.",),
            )
        now = deps.clock.now()
        # A token's own expiry is the server's to say; without one, the longest lifetime.
        expires_at = info.expires_at or now + MAX_TOKEN_LIFETIME
        session = StoredSession(token, TOKEN_TYPE, now, expires_at, server.url)
        previous = _load_quietly(deps)
        deps.store.save(session)
        replaced = previous is not None and previous.access_token != token
        if previous is not None and replaced and not previous.is_expired(now):
            _end_previous(deps, client, previous)
    _report_success(deps, server, session, info, options)
    return 0


def _read_token(deps: Deps) -> str:
    stdin = deps.out.stdin
    if deps.interactive:
        deps.out.info("Paste the token, then press Enter and Ctrl-D.")
    raw = stdin.read(_MAX_TOKEN_INPUT + 1)
    token = raw.strip()
    if not token:
        raise click.UsageError("--with-token reads a token from standard input, and it was empty.")
    if len(raw) > _MAX_TOKEN_INPUT or not is_header_safe(token):
        raise click.UsageError(
            "--with-token: standard input is not a token (one line of visible ASCII characters)."
        )
    return token


def _load_quietly(deps: Deps) -> StoredSession | None:
    try:
        return deps.store.load()
    except SessionFileError:
        return None


def _check_existing_session(
    options: LoginOptions, deps: Deps, client: AuthClient
) -> tuple[StoredSession | None, bool]:
    """(the session this login replaces, whether the user chose to keep it instead).

    The old token is only ever sent to its own server: a session of another server is not
    checked here, and one of the original CLI (no ``serverUrl``) is not sent anywhere.
    """
    out = deps.out
    try:
        previous = deps.store.load()
    except SessionFileError as exc:
        out.warn(f"The session file {exc.path} {exc.reason}; logging in replaces it.")
        return None, False
    if previous is None or previous.is_expired(deps.clock.now()):
        return None, False
    if options.force:
        return previous, False
    here = previous.server is not None and same_server(previous.server, client.base_url)
    info = None
    if here:
        try:
            info = client.get_session(previous.credential())
        except ServerUnreachable:
            raise  # no login is possible either: say that, not "already logged in"
        except ClientError:
            pass  # a broken answer: the file says the session is valid, so still ask
        else:
            if info is None:
                return previous, False  # the server no longer accepts it: nothing to protect
    else:
        client.health()  # raises ServerUnreachable before any question is asked
    who = f" as {_describe_user(info)}" if info is not None else ""
    if previous.server is not None and not here:
        where = f"logged in to {previous.server}"
        replace = f"Log in to {client.base_url} instead (one session at a time)?"
    else:
        where = f"already logged in{who}"
        replace = "Log in again and replace that session?"
    if not deps.interactive:
        out.info(f"{where[:1].upper()}{where[1:]}; a new login replaces that session.")
        return previous, False
    if out.confirm(f"You are {where}. {replace}"):
        return previous, False
    out.info("Kept your current session.")
    return previous, True


def _end_previous(deps: Deps, client: AuthClient, previous: StoredSession) -> None:
    """Sign the replaced session out at the server that issued it (never anywhere else)."""
    if previous.server is None:
        return  # the original CLI's file does not say its server: leave it to expire
    with contextlib.suppress(ClientError):
        if same_server(previous.server, client.base_url):
            client.sign_out(previous.credential())
        else:
            with deps.auth_client(previous.server) as issuer:
                issuer.sign_out(previous.credential())


def _show_code(deps: Deps, authorization: DeviceAuthorization, options: LoginOptions) -> None:
    """The URL and code come first, so that a user on SSH can copy them right away."""
    out = deps.out
    rows = [
        ("Your one-time code:", out.style(authorization.display_code, "bold", "cyan")),
        ("Enter it at:", authorization.verification_uri),
    ]
    if authorization.verification_uri_complete:
        rows.append(("Or open directly:", authorization.verification_uri_complete))
    out.info()
    out.table(rows, err=True)
    out.info(
        out.style("Approve only if the page shows this same code.", "dim"),
    )
    out.info()
    if options.qr:
        _print_qr(deps, authorization.browser_url)


def _print_qr(deps: Deps, url: str) -> None:
    from typing import TextIO, cast

    import segno  # only for --qr

    out = deps.out
    qr = segno.make(url, error="m")
    with out.lock:
        # Half-block characters make the code half as tall; fall back to ANSI colour blocks.
        qr.terminal(out=cast(TextIO, out.stderr), compact=out.unicode, border=2)
        out.stderr.flush()
    out.info("Scan the QR code to open the login page on your phone.")
    out.info()


def _open_browser(deps: Deps, url: str) -> None:
    out = deps.out
    reason = deps.browser.unavailable_reason()
    if reason is not None:
        out.warn(f"Not opening a browser: {reason}. Open the URL above on any device.")
    elif deps.browser.open(url):
        out.info("Opened the login page in your browser.")
    else:
        out.warn("Could not open a browser. Open the URL above yourself; still waiting.")


def _wait_for_approval(
    deps: Deps, client: AuthClient, authorization: DeviceAuthorization
) -> TokenGrant:
    out = deps.out
    clock = client.clock
    with out.status() as status:

        def on_progress(progress: PollProgress) -> None:
            next_poll_at = clock.monotonic() + progress.next_poll_in

            def render() -> str:
                now = clock.monotonic()
                expires = f"code expires in {format_countdown(progress.deadline - now)}"
                if progress.state == "retrying":
                    retry = format_countdown(next_poll_at - now)
                    return (
                        f"Cannot reach the server ({progress.error}); "
                        f"retrying in {retry} · {expires}"
                    )
                if progress.state == "slow_down":
                    return (
                        f"Waiting for approval in the browser (server asked to slow down, "
                        f"polling every {progress.interval:g} s) · {expires}"
                    )
                return f"Waiting for approval in the browser{out.symbol('ellipsis')} {expires}"

            status.update(render, key=f"{progress.state}:{progress.error}")

        return client.poll_for_token(authorization, on_progress=on_progress)


def _make_session(
    deps: Deps, client: AuthClient, grant: TokenGrant, server: ServerUrl
) -> tuple[StoredSession, SessionInfo | None]:
    try:
        info = client.get_session(
            Credential(grant.access_token, grant.token_type, server=server.url)
        )
    except ClientError:
        info = None  # the token is valid (we just got it); who it belongs to is a nicety
    now = deps.clock.now()
    if grant.expires_in is not None:
        expires_at = now + timedelta(seconds=grant.expires_in)
    elif info is not None and info.expires_at is not None:
        expires_at = info.expires_at
    else:
        expires_at = now + FALLBACK_SESSION_LIFETIME
    session = StoredSession(grant.access_token, grant.token_type, now, expires_at, server.url)
    return session, info


def machine_name() -> str | None:
    """This machine's host name, sent with the device request so the approval page can show
    which machine asks; ``None`` when it is not a plain host name."""
    import socket

    try:
        name = socket.gethostname()
    except OSError:
        return None
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")
    if not name or len(name) > MAX_HOSTNAME or not set(name) <= allowed:
        return None
    return name


def _describe_user(info: SessionInfo) -> str:
    name, email = info.user.name, info.user.email
    if name and email:
        return f"{name} <{email}>"
    return name or email or "an unnamed user"


def _report_success(
    deps: Deps,
    server: ServerUrl,
    session: StoredSession,
    info: SessionInfo | None,
    options: LoginOptions,
) -> None:
    out = deps.out
    who = f" as {out.style(_describe_user(info), 'bold')}" if info is not None else ""
    out.success(f"Logged in{who} on {server.url}")
    expires = (
        f"{format_local_time(session.expires_at)}, "
        f"{format_relative(session.expires_at, deps.clock.now())}"
    )
    out.info(f"  Session saved to {deps.store.path} (expires {expires})")
    if options.as_json:
        user = None
        if info is not None:
            user = {"id": info.user.id, "name": info.user.name, "email": info.user.email}
        out.json(
            {
                "status": "logged_in",
                "server": server.url,
                "user": user,
                "sessionFile": str(deps.store.path),
                "createdAt": format_timestamp(session.created_at),
                "expiresAt": format_timestamp(session.expires_at),
            }
        )
