"""Opening the verification URL in a browser.

Commands depend on the :class:`Browser` protocol; tests pass a stub that records URLs. The
default uses Python's :mod:`webbrowser`, which honours ``$BROWSER``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Protocol

__all__ = ["Browser", "SystemBrowser"]


class Browser(Protocol):
    def unavailable_reason(self) -> str | None:
        """Why no browser can be opened here, or ``None`` if one probably can."""
        ...

    def open(self, url: str) -> bool:
        """Open ``url``; ``False`` when that failed."""
        ...


class SystemBrowser:
    """The user's browser, via :mod:`webbrowser`."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, platform: str | None = None
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._platform = platform or sys.platform

    def unavailable_reason(self) -> str | None:
        env = self._environ
        if env.get("BROWSER"):
            return None  # the user named a browser; trust it, even over SSH
        if env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or env.get("SSH_TTY"):
            return "this is an SSH session"
        on_desktop_os = self._platform in ("darwin", "win32", "cygwin")
        if not on_desktop_os and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            # Without a display webbrowser would fall back to a text browser in this terminal.
            return "there is no graphical display"
        return None

    def open(self, url: str) -> bool:
        """Open ``url``; ``True`` only when a browser started (or is still starting).

        For launchers run in the background (``xdg-open``, ``gio``...), ``webbrowser`` reports
        success as soon as the process exists, so a launcher that fails a moment later still
        counted as "opened". Those are run here and watched for a moment instead.
        """
        import webbrowser

        try:
            controller = webbrowser.get()
        except webbrowser.Error:
            controller = None
        if isinstance(controller, webbrowser.BackgroundBrowser):
            args = [arg.replace("%s", url) for arg in controller.args]
            return _launch_and_watch([controller.name, *args])
        try:
            return webbrowser.open(url, new=2)
        except (webbrowser.Error, OSError):
            return False


def _launch_and_watch(command: list[str], grace: float = 2.0) -> bool:
    """Start ``command``; it failed if it exits non-zero within ``grace`` seconds."""
    import subprocess

    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal does not reach the browser
        )
    except OSError:
        return False
    try:
        return process.wait(grace) == 0
    except subprocess.TimeoutExpired:
        return True  # still running: a browser window, or a launcher waiting for one
