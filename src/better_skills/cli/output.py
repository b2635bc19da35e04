"""Terminal output: data on stdout, messages and progress on stderr.

Colour is used only when the stream is a terminal, ``NO_COLOR`` is not set
(https://no-color.org) and ``TERM`` is not ``dumb``. It uses a handful of ANSI codes of its own
rather than ``click.style`` (click is loaded by then anyway, so this saves no start-up time):
the rules for when to colour above are ours, the same for stdout and stderr.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import IO, Any

from better_skills.client.text import clean
from better_skills.protocol.durations import relative_text

__all__ = [
    "Output",
    "StatusLine",
    "format_countdown",
    "format_local_time",
    "format_relative",
    "safe",
    "supports_color",
]

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
}


def supports_color(stream: IO[str], environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR", "") != "" or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def _can_encode(stream: IO[str], text: str) -> bool:
    # In-memory text streams have no encoding and hold any character.
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _encodable(stream: IO[str], text: str) -> str:
    """``text`` with what the stream cannot encode (a lone surrogate, say) replaced by ``?``."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, errors="replace").decode(encoding, errors="replace")
    except LookupError:
        pass
    return text


class Output:
    """Where every command writes. Tests pass ``io.StringIO`` streams."""

    def __init__(
        self,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        *,
        stdin: IO[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.stdin = stdin if stdin is not None else sys.stdin
        self.environ = os.environ if environ is None else environ
        self.color_out = supports_color(self.stdout, self.environ)
        self.color_err = supports_color(self.stderr, self.environ)
        self.unicode = _can_encode(self.stderr, "✓✗⠋…")
        self.lock = threading.Lock()

    # -- building blocks -------------------------------------------------------------------

    def style(self, text: str, *styles: str, err: bool = True) -> str:
        """``text`` wrapped in ANSI codes when that stream takes colour."""
        if not styles or not (self.color_err if err else self.color_out):
            return text
        codes = ";".join(_CODES[name] for name in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def symbol(self, kind: str) -> str:
        symbols = {"ok": "✓", "warn": "!", "error": "✗", "ellipsis": "…"}
        ascii_symbols = {"ok": "OK", "warn": "!", "error": "X", "ellipsis": "..."}
        return (symbols if self.unicode else ascii_symbols)[kind]

    def _write(self, stream: IO[str], text: str) -> None:
        with self.lock:
            stream.write(_encodable(stream, text) + "\n")
            stream.flush()

    # -- data (stdout) ---------------------------------------------------------------------

    def data(self, text: str = "") -> None:
        self._write(self.stdout, text)

    def json(self, value: Any) -> None:
        self._write(self.stdout, json.dumps(value, indent=2, ensure_ascii=False))

    def table(self, rows: Iterable[tuple[str, str]], *, err: bool = False) -> None:
        """Aligned ``key  value`` lines; keys in bold on a terminal."""
        rows = list(rows)
        width = max((len(key) for key, _ in rows), default=0)
        for key, value in rows:
            line = f"{self.style(key.ljust(width), 'bold', err=err)}  {value}"
            self._write(self.stderr if err else self.stdout, line)

    # -- messages (stderr) -----------------------------------------------------------------

    def info(self, message: str = "") -> None:
        self._write(self.stderr, message)

    def success(self, message: str) -> None:
        self._write(self.stderr, f"{self.style(self.symbol('ok'), 'green')} {message}")

    def warn(self, message: str) -> None:
        self._write(self.stderr, f"{self.style(self.symbol('warn'), 'yellow', 'bold')} {message}")

    def error(self, message: str, hints: Iterable[str] = ()) -> None:
        lines = [f"{self.style(self.symbol('error'), 'red', 'bold')} {message}"]
        lines += [f"  {hint}" for hint in hints]
        self._write(self.stderr, "\n".join(lines))

    def confirm(self, question: str, *, default: bool = False) -> bool:
        """Ask on stderr, read stdin. End of input means the default; Ctrl-C propagates."""
        suffix = " [Y/n] " if default else " [y/N] "
        with self.lock:
            self.stderr.write(self.style("? ", "cyan", "bold") + question + suffix)
            self.stderr.flush()
        line = self.stdin.readline()
        if not line:
            self.info()
            return default
        answer = line.strip().lower()
        if not answer:
            return default
        return answer in ("y", "yes")

    def status(self, *, animate: bool | None = None) -> StatusLine:
        """A live status line on stderr: a spinner on a terminal, plain lines otherwise."""
        if animate is None:
            # Animation is not colour: NO_COLOR keeps the spinner, a dumb terminal does not.
            isatty = getattr(self.stderr, "isatty", None)
            animate = bool(isatty and isatty()) and self.environ.get("TERM") != "dumb"
        return StatusLine(self, animate=animate)


class StatusLine:
    """One updating line on stderr.

    On a terminal a background thread redraws a spinner and the text ten times a second, so a
    countdown keeps moving while the caller sleeps. Otherwise (a pipe, a CI log) a plain line is
    written when the state changes, and at most once a minute while it stays the same.
    """

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    ASCII_FRAMES = "|/-\\"
    REPEAT_PLAIN_AFTER = 60.0

    def __init__(self, output: Output, *, animate: bool) -> None:
        self._out = output
        self._animate = animate
        self._render: Callable[[], str] = lambda: ""
        self._key: str | None = None
        self._last_plain = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frames = self.FRAMES if output.unicode else self.ASCII_FRAMES

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def update(self, render: Callable[[], str], *, key: str) -> None:
        """Show ``render()``; ``key`` names the state, so plain output repeats only on change."""
        self._render = render
        if self._animate:
            if self._thread is None:  # started on the first text, so no empty frame is drawn
                self._thread = threading.Thread(target=self._spin, name="status-line", daemon=True)
                self._thread.start()
            return
        now = time.monotonic()
        if key != self._key or now - self._last_plain >= self.REPEAT_PLAIN_AFTER:
            self._key = key
            self._last_plain = now
            self._out.info(render())

    def stop(self) -> None:
        """Stop the spinner and clear its line (safe to call twice)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        with self._out.lock:
            self._out.stderr.write("\r\x1b[2K")
            self._out.stderr.flush()

    def _spin(self) -> None:
        index = 0
        while not self._stop.is_set():
            frame = self._out.style(self._frames[index % len(self._frames)], "cyan")
            text = self._render()
            with self._out.lock:
                self._out.stderr.write(f"\r\x1b[2K{frame} {text}")
                self._out.stderr.flush()
            index += 1
            self._stop.wait(0.1)


# -- time ----------------------------------------------------------------------------------


def format_countdown(seconds: float) -> str:
    """``14:59`` (or ``1:02:03`` beyond an hour); never negative."""
    total = max(0, int(seconds + 0.999))  # round up: "0:00" only when the time is really up
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_relative(moment: datetime, now: datetime) -> str:
    """``in 7 hours`` / ``3 minutes ago`` / ``just now`` (``protocol.durations``'s words)."""
    return relative_text((moment - now).total_seconds())


def format_local_time(moment: datetime) -> str:
    """An absolute time in the user's time zone, e.g. ``2024-03-15 11:30:00 CET``."""
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or local.strftime('%z')}"


def safe(text: object, *, max_length: int = 500) -> str:
    """Server-supplied text, cleaned of escape sequences, for printing."""
    return clean(text, max_length=max_length)
