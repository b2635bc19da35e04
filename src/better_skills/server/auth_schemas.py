"""The /api/auth wire shapes (better-auth 1.7's JSON), one pydantic model each: user, session.

The auth services return records (:mod:`better_skills.server.services.auth_records`); these
models are the only place that turns them into better-auth's camelCase keys and ISO 8601
times (``2024-03-15T10:30:00.000Z``, as JavaScript's Date prints them).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from better_skills.server.services.auth_records import User
from better_skills.server.services.sessions import SessionView
from better_skills.server.timefmt import iso_ms

#: Stored as epoch milliseconds, sent as better-auth sends a Date.
WireTime = Annotated[int, PlainSerializer(iso_ms, return_type=str)]


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)

    @classmethod
    def json_of(cls, record: Any) -> dict[str, Any]:
        """The record's wire JSON (keys in field order, as the JSON encoder writes them)."""
        return cls.model_validate(record).model_dump(by_alias=True)


class UserJson(_Wire):
    id: str
    name: str
    email: str
    email_verified: bool
    image: str | None
    created_at: WireTime
    updated_at: WireTime


class SessionJson(_Wire):
    id: str
    user_id: str
    expires_at: WireTime
    created_at: WireTime
    updated_at: WireTime
    ip_address: str | None
    user_agent: str | None


class GetSessionJson(_Wire):
    """``get-session``'s answer for a live session (for none it is ``null``)."""

    session: SessionJson
    user: UserJson


def user_json(user: User) -> dict[str, Any]:
    return UserJson.json_of(user)


def session_json_bytes(view: SessionView) -> bytes:
    """``get-session``'s answer, encoded. A hot path: one model validated from the records and
    encoded by pydantic-core costs what the hand-built dict and ``json.dumps`` did (about
    20 µs); a dict per record and then ``json.dumps`` cost 15 µs more. The bytes are the
    same as JSONResponse's (compact, UTF-8): tests/server/test_auth_wire_bytes.py."""
    return GetSessionJson.model_validate(view).model_dump_json(by_alias=True).encode()
