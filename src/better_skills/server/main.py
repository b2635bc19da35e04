"""``better-skills-server``: validate settings, migrate the database, serve with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from typing import TYPE_CHECKING

from better_skills import __version__
from better_skills.server.settings import MIGRATED_ENV, Settings, SettingsError, load_settings

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("better_skills.server")


def _migrate(settings: Settings) -> None:
    from better_skills.server.db import create_engine, migrate

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _prepare_database(settings: Settings) -> str | None:
    """Migrate; returns what went wrong in one line, or None. Picklable both ways, so that
    it can run in a child process."""
    try:
        _migrate(settings)
    except Exception as exc:
        return _one_line(exc)
    return None


def _prepare_database_in_child(settings: Settings) -> str | None:
    """With several workers, migrate in a short-lived child process: uvicorn's supervisor
    only starts and watches the workers, and importing SQLAlchemy and Alembic into it would
    keep about 60 MiB resident in a process that never serves a request."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_prepare_database, settings).result()


def _one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (some errors, such as timeouts, have none)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


#: Exit codes of ``better-skills-server`` (README, "The server").
EXIT_DATABASE = 1
EXIT_SETTINGS = 2
EXIT_CANNOT_LISTEN = 3
#: ``admin ...`` refused (no such account, slug taken, bad value): admin.EXIT_REFUSED, 4.


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, before anything says it listens (uvicorn listens on it).

    SO_REUSEADDR, as uvicorn sets it, lets a restart bind while old connections linger in
    TIME_WAIT; on Linux it does not let two servers share a listening port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # workers are spawned processes that inherit it
    return sock


def _address_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def cannot_listen(settings: Settings, exc: OSError) -> str:
    """One line saying why the server cannot listen, and which settings to change."""
    where = _address_url(settings.host, settings.port)
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is in use by another program; "
            f"stop it or choose another port with the PORT setting (PORT={settings.port} now)"
        )
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return (
            f"cannot listen on {where}: no network interface of this machine has the address "
            f"{settings.host}; set HOST to one of its addresses (such as 127.0.0.1 or 0.0.0.0)"
        )
    if exc.errno == errno.EACCES:
        return (
            f"cannot listen on {where}: permission denied (ports below 1024 need privileges); "
            f"choose another port with the PORT setting (PORT={settings.port} now)"
        )
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {where}: HOST {settings.host!r} is not a known address"
    reason = exc.strerror or _one_line(exc)
    return f"cannot listen on {where}: {reason} (settings HOST and PORT)"


#: File descriptors a worker needs besides its connections: database pools, logs, imports.
FILES_BESIDES_CONNECTIONS = 128


def _make_room_for_connections(settings: Settings) -> None:
    """Raise the open-files limit to fit MAX_CONNECTIONS, or warn that it does not.

    Past the limit, accept() fails and real requests fail with idle sockets; the cap must
    bite first. The soft limit may be raised up to the hard one without privileges.
    """
    try:
        import resource
    except ImportError:  # Windows
        return
    need = settings.max_connections + FILES_BESIDES_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < need:
        log.warning(
            "the open-files limit (%d) is too low for MAX_CONNECTIONS=%d; lower "
            "MAX_CONNECTIONS to %d or raise the limit (ulimit -n)",
            soft,
            settings.max_connections,
            max(1, soft - FILES_BESIDES_CONNECTIONS),
        )


def _cli_hint(settings: Settings) -> str:
    """When the server is not where the CLI looks by default, say how to point it here."""
    from better_skills.client.config import DEFAULT_SERVER_URL

    if settings.public_url == DEFAULT_SERVER_URL:
        return ""
    return (
        f"; point the CLI at it with SERVER_URL={settings.public_url} better-skills login "
        f"(or better-skills login --server {settings.public_url})"
    )


def server_config(settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration: our protocol, limits and timeouts, no access log."""
    import uvicorn

    from better_skills.server.connection import ConnectionLimits

    config = uvicorn.Config(
        "better_skills.server.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop" if sys.platform != "win32" else "auto",
        # httptools, with header limits and read timeouts (server/connection.py)
        http="better_skills.server.connection:GuardedHttpToolsProtocol",
        ws="none",  # no WebSockets: an Upgrade must not hand the socket to another parser
        proxy_headers=False,  # we read X-Forwarded-For ourselves, only from TRUSTED_PROXIES
        server_header=False,
        access_log=False,  # URLs can carry user codes; never log them
        # uvicorn's own start-up chatter only when debugging; main() logs its own lines.
        log_level=settings.log_level if settings.log_level == "debug" else "warning",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
        # Connections beyond MAX_CONNECTIONS are refused by the protocol; this caps the
        # requests in progress, which cannot outnumber the connections.
        limit_concurrency=settings.max_connections + 1,
    )
    # Read by the protocol in every worker (the config is pickled into spawned workers).
    config.connection_limits = ConnectionLimits(  # type: ignore[attr-defined]
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=settings.max_connections,
    )
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="better-skills-server",
        description="The better-skills authentication server. Settings come from environment "
        "variables and a .env file in the working directory (see the README).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    from better_skills.server import admin

    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    admin.add_parser(subparsers)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"better-skills-server: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    if args.command == "admin":
        try:
            return admin.run(args, settings)
        except Exception as exc:  # the database is unreachable or refuses: one line
            print(f"better-skills-server admin: {_one_line(exc)}", file=sys.stderr)
            return EXIT_DATABASE
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_level != "debug":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    _make_room_for_connections(settings)
    # Bind before the migration, so that a busy port is reported before the database is
    # touched, and before anything says the server listens.
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        print(f"better-skills-server: {cannot_listen(settings, exc)}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    if settings.workers > 1:
        problem = _prepare_database_in_child(settings)
    else:
        problem = _prepare_database(settings)
    if problem is not None:
        print(
            f"better-skills-server: cannot prepare the database at "
            f"{settings.display_database()}: {problem}",
            file=sys.stderr,
        )
        sock.close()
        return EXIT_DATABASE
    import uvicorn

    os.environ[MIGRATED_ENV] = "1"
    where = _address_url(settings.host, settings.port)
    log.info(
        "better-skills-server %s listening on %s (public URL %s), database %s%s",
        __version__,
        where,
        settings.public_url,
        settings.display_database(),
        _cli_hint(settings),
    )
    config = server_config(settings)
    # uvicorn stops gracefully on SIGTERM, then raises the signal again: exit through this
    # handler, not the default one that kills at once, so that the line below is logged.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if settings.workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        log.info("better-skills-server stopped listening on %s", where)
    return 0


if __name__ == "__main__":
    sys.exit(main())
