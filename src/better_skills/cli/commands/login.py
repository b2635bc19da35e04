"""``better-skills login``: the OAuth 2.0 device authorization flow (RFC 8628).

The protocol lives in :mod:`better_skills.client.api`; this module only supplies the user
interface around it (show the code, open the browser, a status line) and saves the session.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from better_skills.cli.common import AppState, Deps, json_option, server_option
from better_skills.cli.output import format_countdown, format_local_time, format_relative
from better_skills.client.config import TOKEN_ENV, token_from_env
from better_skills.client.credentials import Credential
from better_skills.client.errors import ClientError, SessionFileError, SessionStoreUnwritable
from better_skills.client.session_store import StoredSession
from better_skills.protocol.wire import format_timestamp

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


@dataclass(frozen=True)
class LoginOptions:
    server: str | None = None
    no_browser: bool = False
    qr: bool = False
    as_json: bool = False
    force: bool = False


@click.command(
    "login",
    epilog="Exit codes: 0 logged in (or kept the current session), 1 denied, expired or "
    "another error, 2 usage, 130 interrupted.",
)
@server_option
@click.option("--no-browser", is_flag=True, help="Do not open a browser; only print the URL.")
@click.option("--qr", is_flag=True, help="Also show the login URL as a QR code (for a phone).")
@json_option
@click.option("-f", "--force", is_flag=True, help="Replace a valid session without asking.")
@click.pass_context
def command(
    ctx: click.Context, server: str | None, no_browser: bool, qr: bool, as_json: bool, force: bool
) -> int:
    """Log in with your browser (OAuth device code flow).

    Prints a URL and a one-time code, opens the URL in your browser, and waits while you
    approve the request there. Then the session is saved to
    $XDG_CONFIG_HOME/better-skills/session.json (default ~/.config/better-skills/).

    Over SSH or without a display, open the URL on any device (--qr helps with a phone).
    """
    options = LoginOptions(server, no_browser, qr, as_json, force)
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
    with deps.auth_client(server) as client:
        previous, keep = _check_existing_session(options, deps, client)
        if keep:
            if options.as_json:
                out.json(
                    {"status": "kept", "server": server.url, "sessionFile": str(deps.store.path)}
                )
            return 0
        authorization = client.request_device_code()
        _show_code(deps, authorization, options)
        if not options.no_browser:
            _open_browser(deps, authorization.browser_url)
        grant = _wait_for_approval(deps, client, authorization)
        session, info = _make_session(deps, client, grant)
        try:
            deps.store.save(session)
        except SessionStoreUnwritable:
            # Nobody could use this token again; do not leave it valid on the server.
            with contextlib.suppress(ClientError):
                client.sign_out(session.credential())
            raise
        if previous is not None and previous.access_token != session.access_token:
            # The replaced session would stay valid on the server for hours; end it.
            with contextlib.suppress(ClientError):
                client.sign_out(previous.credential())
    _report_success(deps, server, session, info, options)
    return 0


def _check_existing_session(
    options: LoginOptions, deps: Deps, client: AuthClient
) -> tuple[StoredSession | None, bool]:
    """(the session this login replaces, whether the user chose to keep it instead)."""
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
    who = ""
    try:
        info = client.get_session(previous.credential())
    except ClientError:
        info = None  # offline: the file says the session is valid, so still ask
    else:
        if info is None:
            return previous, False  # the server no longer accepts it: nothing to protect
    if info is not None:
        who = f" as {_describe_user(info)}"
    if not deps.interactive:
        out.info(f"Already logged in{who}; a new login replaces that session.")
        return previous, False
    if out.confirm(f"You are already logged in{who}. Log in again and replace that session?"):
        return previous, False
    out.info("Kept your current session.")
    return previous, True


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
    deps: Deps, client: AuthClient, grant: TokenGrant
) -> tuple[StoredSession, SessionInfo | None]:
    try:
        info = client.get_session(Credential(grant.access_token, grant.token_type))
    except ClientError:
        info = None  # the token is valid (we just got it); who it belongs to is a nicety
    now = deps.clock.now()
    if grant.expires_in is not None:
        expires_at = now + timedelta(seconds=grant.expires_in)
    elif info is not None and info.expires_at is not None:
        expires_at = info.expires_at
    else:
        expires_at = now + FALLBACK_SESSION_LIFETIME
    return StoredSession(grant.access_token, grant.token_type, now, expires_at), info


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
