"""The session file: ``$XDG_CONFIG_HOME/better-skills/session.json``.

Format (the documented one, shared with the original TypeScript CLI)::

    {"version": 1, "accessToken": "<token>", "tokenType": "Bearer",
     "createdAt": "2024-03-15T10:30:00.000Z", "expiresAt": "2024-03-15T18:30:00.000Z",
     "serverUrl": "https://api.betterskills.ai"}

``serverUrl`` is ours: the server that issued the token, the only one it is ever sent to (an
added field, which the original CLI's reader ignores). A file without it (written by the original)
is bound to the first server that accepts it.

Guarantees beyond the original: the file is written atomically (temporary file in the same
folder, fsync, rename, fsync of the folder), mode 0600 in a folder of mode 0700; a file the
original left at 0644 is tightened on first read and the user is told. Writes never go through a
symbolic link, and the folder must belong to the current user, so a shared or hostile
``XDG_CONFIG_HOME`` cannot redirect the token elsewhere.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from better_skills.client.config import normalize_server_url
from better_skills.client.credentials import Credential
from better_skills.client.errors import ConfigError, SessionFileError, SessionStoreUnwritable
from better_skills.protocol.device_flow import TOKEN_TYPE
from better_skills.protocol.wire import (
    format_timestamp,
    is_header_safe,
    is_token_type,
    parse_timestamp,
)

__all__ = [
    "APP_DIR_NAME",
    "SESSION_FILE_NAME",
    "SESSION_VERSION",
    "SessionStore",
    "StoredSession",
    "default_session_path",
    "format_timestamp",
    "parse_timestamp",
]

APP_DIR_NAME = "better-skills"
SESSION_FILE_NAME = "session.json"
SESSION_VERSION = 1

FILE_MODE = 0o600
DIR_MODE = 0o700
#: A real session file is about 200 bytes; anything this large is not one.
_MAX_FILE_BYTES = 64 * 1024

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def default_session_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/better-skills/session.json``, else ``~/.config/...``.

    A relative ``XDG_CONFIG_HOME`` is ignored, as the XDG Base Directory spec requires.
    """
    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".config"
    return base / APP_DIR_NAME / SESSION_FILE_NAME


@dataclass(frozen=True)
class StoredSession:
    """What the session file holds."""

    access_token: str
    token_type: str
    created_at: datetime
    expires_at: datetime
    #: The server that issued the token; ``None`` in a file of the original CLI.
    server: str | None = None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def credential(self) -> Credential:
        """The token of this session, to hand to an API client."""
        return Credential(
            self.access_token, self.token_type, "session_file", server=self.server, stored=self
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": SESSION_VERSION,
            "accessToken": self.access_token,
            "tokenType": self.token_type,
            "createdAt": format_timestamp(self.created_at),
            "expiresAt": format_timestamp(self.expires_at),
        }
        if self.server is not None:
            data["serverUrl"] = self.server
        return data

    @classmethod
    def from_json(cls, data: object, path: Path) -> StoredSession:
        """Validate a parsed file; every problem is a :class:`SessionFileError`."""
        if not isinstance(data, dict):
            raise SessionFileError(path, "is not a JSON object")
        version = data.get("version")
        if version != SESSION_VERSION:
            if isinstance(version, int) and not isinstance(version, bool):
                raise SessionFileError(
                    path, f"has version {version}, which this better-skills does not know"
                )
            raise SessionFileError(path, "has no valid version field")
        token = data.get("accessToken")
        if not isinstance(token, str) or not is_header_safe(token):
            raise SessionFileError(path, "has a missing or malformed accessToken")
        token_type = data.get("tokenType", TOKEN_TYPE)
        if not isinstance(token_type, str) or not is_token_type(token_type):
            raise SessionFileError(path, "has a malformed tokenType")
        times = {}
        for key in ("createdAt", "expiresAt"):
            raw = data.get(key)
            try:
                if not isinstance(raw, str):
                    raise ValueError(key)
                times[key] = parse_timestamp(raw)
            except ValueError:
                raise SessionFileError(path, f"has a missing or malformed {key}") from None
        server = data.get("serverUrl")
        if server is not None:
            try:
                if not isinstance(server, str):
                    raise ConfigError("not a string")
                server = normalize_server_url(server, "the session file")
            except ConfigError:
                raise SessionFileError(path, "has a malformed serverUrl") from None
        return cls(token, token_type, times["createdAt"], times["expiresAt"], server)


def _owned_by_me(st: os.stat_result) -> bool:
    getuid = getattr(os, "getuid", None)
    return getuid is None or st.st_uid == getuid()


class SessionStore:
    """Read, write and delete the session file.

    ``on_notice`` receives messages the user should see (permissions tightened); the store
    itself never prints.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path if path is not None else default_session_path()
        self._notice = on_notice or (lambda _message: None)

    @property
    def directory(self) -> Path:
        return self.path.parent

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> StoredSession | None:
        """The stored session, or ``None`` when there is no file.

        Raises :class:`SessionFileError` for a corrupt, truncated, oversized, unknown-version or
        symlinked file.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise SessionFileError(self.path, "is a symbolic link; it is not used") from None
            if isinstance(exc, IsADirectoryError):
                raise SessionFileError(self.path, "is a directory") from None
            raise SessionFileError(self.path, f"cannot be read ({exc.strerror})") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SessionFileError(self.path, "is not a regular file")
            self._tighten_file(fd, st)
            data = b""
            while len(data) <= _MAX_FILE_BYTES:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
        except IsADirectoryError:
            raise SessionFileError(self.path, "is a directory") from None
        finally:
            os.close(fd)
        self._tighten_directory()
        if len(data) > _MAX_FILE_BYTES:
            raise SessionFileError(self.path, "is too large to be a session file")
        if not data.strip():
            raise SessionFileError(self.path, "is empty")
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SessionFileError(self.path, "is corrupt (not valid JSON)") from None
        return StoredSession.from_json(parsed, self.path)

    def _tighten_file(self, fd: int, st: os.stat_result) -> None:
        """Files written by the original CLI are 0644: readable by everyone on the machine."""
        mode = stat.S_IMODE(st.st_mode)
        if not mode & 0o077 or not _owned_by_me(st) or not hasattr(os, "fchmod"):
            return
        try:
            os.fchmod(fd, FILE_MODE)
        except OSError as exc:
            self._notice(
                f"{self.path} is readable by other users (mode {mode:04o}) and could not be "
                f"restricted ({exc.strerror}); it holds your access token."
            )
        else:
            self._notice(
                f"Restricted the permissions of {self.path} from {mode:04o} to {FILE_MODE:04o}: "
                "it holds your access token."
            )

    def _tighten_directory(self) -> None:
        try:
            st = os.lstat(self.directory)
        except OSError:
            return
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode) or not mode & 0o077 or not _owned_by_me(st):
            return
        try:
            os.chmod(self.directory, DIR_MODE)
        except OSError:
            return
        self._notice(
            f"Restricted the permissions of {self.directory} from {mode:04o} to {DIR_MODE:04o}."
        )

    # -- writing ---------------------------------------------------------------------------

    def save(self, session: StoredSession) -> None:
        """Write the file atomically with mode 0600; raises :class:`SessionStoreUnwritable`."""
        self._prepare_directory()
        payload = (json.dumps(session.to_json(), indent=2) + "\n").encode("utf-8")
        # os.urandom rather than secrets: same randomness, without importing hmac/hashlib.
        temp = self.directory / f".{SESSION_FILE_NAME}.{os.urandom(8).hex()}.tmp"
        try:
            # O_EXCL|O_NOFOLLOW: never open something an attacker placed at the temporary name.
            fd = os.open(
                temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, FILE_MODE
            )
        except OSError as exc:
            raise SessionStoreUnwritable(self.path, exc.strerror or str(exc)) from None
        try:
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, FILE_MODE)  # the umask may have removed bits we need
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            # rename() replaces a symlink at the target instead of writing through it.
            os.replace(temp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise SessionStoreUnwritable(self.path, exc.strerror or str(exc)) from None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        self._fsync_directory()

    def _prepare_directory(self) -> None:
        directory = self.directory
        try:
            directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            st = os.lstat(directory)
        except OSError as exc:
            raise SessionStoreUnwritable(self.path, exc.strerror or str(exc)) from None
        if stat.S_ISLNK(st.st_mode):
            raise SessionStoreUnwritable(
                self.path,
                f"{directory} is a symbolic link, and the token is not written through one",
            )
        if not stat.S_ISDIR(st.st_mode):
            raise SessionStoreUnwritable(self.path, f"{directory} is not a directory")
        if not _owned_by_me(st):
            raise SessionStoreUnwritable(self.path, f"{directory} belongs to another user")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            try:
                os.chmod(directory, DIR_MODE)
            except OSError as exc:
                raise SessionStoreUnwritable(self.path, exc.strerror or str(exc)) from None
            self._notice(
                f"Restricted the permissions of {directory} from {mode:04o} to {DIR_MODE:04o}."
            )

    def _fsync_directory(self) -> None:
        """Make the rename itself durable (POSIX); not possible on every platform."""
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
        try:
            fd = os.open(self.directory, flags)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    # -- deleting --------------------------------------------------------------------------

    def delete(self) -> bool:
        """Remove the file (a symlink itself, never its target); ``False`` if there was none."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return False
        except IsADirectoryError:
            raise SessionStoreUnwritable(self.path, "it is a directory") from None
        except OSError as exc:
            raise SessionStoreUnwritable(self.path, exc.strerror or str(exc)) from None
        self._fsync_directory()
        return True
