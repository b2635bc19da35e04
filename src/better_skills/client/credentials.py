"""A token the CLI may send, where it came from, and which server it belongs to.

Resolving one (``BETTER_SKILLS_TOKEN``, else the session file, with its expiry) is
``Deps.credentials`` in the CLI; :class:`~better_skills.client._transport.ApiClient` holds one
and refuses to send it to any server but its own. No I/O, no heavy imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from better_skills.client.config import TOKEN_ENV
from better_skills.protocol.device_flow import TOKEN_TYPE

if TYPE_CHECKING:
    from better_skills.client.session_store import StoredSession

__all__ = ["Credential", "CredentialSource"]

#: ``environment``: BETTER_SKILLS_TOKEN; ``session_file``: the saved session; ``login``: a token
#: the server has just issued or the user has just given (not saved yet).
CredentialSource = Literal["environment", "session_file", "login"]


@dataclass(frozen=True)
class Credential:
    """A token, its type, its source and (when known) the server that issued it."""

    token: str
    token_type: str = TOKEN_TYPE
    source: CredentialSource = "login"
    #: The server URL the token belongs to; ``None`` = not recorded (a file of the original CLI).
    server: str | None = None
    #: The session file's record, when the token came from it.
    stored: StoredSession | None = None

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value."""
        return f"{self.token_type} {self.token}"

    def describe(self) -> str:
        """What a message calls this token: "the token in BETTER_SKILLS_TOKEN", "the session"."""
        if self.source == "environment":
            return f"the token in {TOKEN_ENV}"
        if self.source == "session_file":
            return "the session"
        return "the token"

    def __repr__(self) -> str:  # never put the token in a log or a traceback
        return f"Credential(source={self.source!r}, server={self.server!r})"
