"""The /api/auth wire shapes (better-auth 1.7's JSON), one pydantic model each: user, session.

The auth services return records (:mod:`better_skills.server.services.auth_records`); these
models are the only place that says how they become better-auth's camelCase keys and ISO
8601 times (``2024-03-15T10:30:00.000Z``, as JavaScript's Date prints them).
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


# get-session is a hot path: validating and dumping the models per request cost 13 µs of
# CPU (of about 145 µs in all, measured in one process, alternating). So the answers are
# built from the models' fields, read once here: each (attribute, wire key, is a time).
# tests/server/test_auth_wire_bytes.py checks the result against the models' own dump.
_Plan = tuple[tuple[str, str, bool], ...]


def _plan(model: type[BaseModel]) -> _Plan:
    return tuple(
        (name, field.alias or name, any(isinstance(m, PlainSerializer) for m in field.metadata))
        for name, field in model.model_fields.items()
    )


_USER = _plan(UserJson)
_SESSION = _plan(SessionJson)


def _wire(record: Any, plan: _Plan) -> dict[str, Any]:
    return {
        key: iso_ms(getattr(record, name)) if is_time else getattr(record, name)
        for name, key, is_time in plan
    }


def user_json(user: User) -> dict[str, Any]:
    """A :class:`UserJson` of ``user``, as plain data."""
    return _wire(user, _USER)


def session_json(view: SessionView) -> dict[str, Any]:
    """A :class:`GetSessionJson` of ``view``, as plain data."""
    return {"session": _wire(view.session, _SESSION), "user": _wire(view.user, _USER)}
