"""The records of the authentication services: an account, a session, a listed session.

Services return these (times in epoch milliseconds, snake_case); better-auth's camelCase wire
shapes with ISO times are built from them in one place, :mod:`better_skills.server.auth_schemas`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    email_verified: bool
    image: str | None
    created_at: int
    updated_at: int

    @classmethod
    def of_row(cls, row: Any) -> User:
        """From a row of every column of ``users``."""
        return cls(
            row.id,
            row.name,
            row.email,
            bool(row.email_verified),
            row.image,
            row.created_at,
            row.updated_at,
        )


@dataclass(frozen=True)
class Session:
    """A live session (or personal access token) as its holder sees it."""

    id: str
    user_id: str
    expires_at: int
    created_at: int
    updated_at: int
    ip_address: str | None
    user_agent: str | None


@dataclass(frozen=True)
class ListedSession:
    """One of a user's sessions as the account page lists it: never its token hash."""

    id: str
    kind: str
    client_id: str | None
    created_at: int
    last_used_at: int
    expires_at: int
    ip_address: str | None
    user_agent: str | None
    hostname: str | None

    @classmethod
    def of_row(cls, row: Any) -> ListedSession:
        return cls(
            row.id,
            row.kind,
            row.client_id,
            row.created_at,
            row.last_used_at,
            row.expires_at,
            row.ip_address,
            row.user_agent,
            row.hostname,
        )
