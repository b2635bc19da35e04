"""``better-skills-server``: validate settings, migrate the database, serve with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys

from better_skills import __version__
from better_skills.server.settings import MIGRATED_ENV, Settings, SettingsError, load_settings

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="better-skills-server",
        description="The better-skills authentication server. Settings come from environment "
        "variables and a .env file in the working directory (see the README).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"better-skills-server: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_level != "debug":
        logging.getLogger("alembic").setLevel(logging.WARNING)
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
        return 1
    import uvicorn

    os.environ[MIGRATED_ENV] = "1"
    log.info(
        "better-skills-server %s listening on http://%s:%d (public URL %s), database %s",
        __version__,
        settings.host,
        settings.port,
        settings.public_url,
        settings.display_database(),
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            "better_skills.server.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers if settings.workers > 1 else None,
            loop="uvloop" if sys.platform != "win32" else "auto",
            http="httptools",
            proxy_headers=False,  # we read X-Forwarded-For ourselves, only from TRUSTED_PROXIES
            server_header=False,
            access_log=False,  # URLs can carry user codes; never log them
            # uvicorn's own start-up chatter only when debugging; we log the one line above.
            log_level=settings.log_level if settings.log_level == "debug" else "warning",
            timeout_graceful_shutdown=5,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
