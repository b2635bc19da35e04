"""Personal access tokens: long-lived bearer tokens for machines (CI, a server that syncs).

A token is ``bsk_`` and 256 random bits, shown once at creation; the database keeps only its
keyed hash (like session tokens), its name, expiry (1 to 365 days) and last use. It works as
``Authorization: Bearer`` wherever a session token does (:meth:`SessionService.lookup`), and
stops working the moment it is revoked or expires.

Creating one needs a browser session (signed in with the password): a device login's token or
another personal access token must not be able to mint a long-lived token that survives its
own sign-out (the thief's way to keep an account).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from better_skills.protocol import errors
from better_skills.server import fields
from better_skills.server.db import Database
from better_skills.server.queries import tokens as q
from better_skills.server.security import ACCESS_TOKEN_PREFIX, Hasher, new_access_token
from better_skills.server.services import Caller, Clock, audit, to_ms
from better_skills.server.services.auth_records import Session
from better_skills.server.services.sessions import (
    ACCESS_TOKEN,
    BROWSER,
    LAST_USED_GRANULARITY_MS,
    SessionView,
    user_of,
)

MIN_DAYS, MAX_DAYS = 1, 365
#: Live tokens one account may hold: enough for every machine, not a table-filling loop.
MAX_TOKENS_PER_USER = 100
DAY_MS = 86_400_000
#: Expired tokens stay listed (as expired) this long before the sweeper deletes them.
EXPIRED_GRACE_MS = 30 * DAY_MS


class ValidationFailed(errors.OAuthError):
    """``validation_failed`` (400) with the ``details`` list of the /api/v1 conventions."""

    error = "validation_failed"
    default_description = "The request has invalid fields."

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.details = [{"path": path, "message": message}]

    def to_dict(self) -> dict[str, Any]:  # type: ignore[override]
        return {**super().to_dict(), "details": self.details}


@dataclass(frozen=True)
class TokenInfo:
    """A token as it is listed: never its secret. Times are epoch milliseconds."""

    id: str
    name: str
    created_at: int
    expires_at: int
    last_used_at: int | None


@dataclass(frozen=True)
class NewToken(TokenInfo):
    """A token just created: ``token`` is the secret, shown this once."""

    token: str = ""


def validate_name(raw: Any) -> str:
    """1 to 100 printable characters; control and format characters (bidi overrides,
    zero-width) are removed, white space collapsed."""
    if not isinstance(raw, str):
        raise ValidationFailed("name", "name must be a string.")
    cleaned = "".join(c for c in raw if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    name = " ".join(cleaned.split())
    if not name:
        raise ValidationFailed("name", "Give the token a name, such as the machine that uses it.")
    if len(name) > fields.ACCESS_TOKEN_NAME:
        raise ValidationFailed("name", f"Names are at most {fields.ACCESS_TOKEN_NAME} characters.")
    return name


def validate_days(raw: Any) -> int:
    """A whole number of days from 1 to 365 (JSON booleans and fractions are refused)."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationFailed("expires_in_days", "expires_in_days must be a whole number.")
    if not MIN_DAYS <= raw <= MAX_DAYS:
        raise ValidationFailed(
            "expires_in_days", f"expires_in_days must be from {MIN_DAYS} to {MAX_DAYS}."
        )
    return raw


class TokenService:
    def __init__(self, db: Database, hasher: Hasher, clock: Clock) -> None:
        self._db = db
        self._hasher = hasher
        self._clock = clock
        self._touching: set[str] = set()

    async def create(
        self, session: SessionView, name: Any, expires_in_days: Any, caller: Caller
    ) -> NewToken:
        """A new token for the user of ``session``, which must be a browser session
        (403 ``forbidden`` otherwise); 400 ``validation_failed`` for a bad name or expiry."""
        if session.kind != BROWSER:
            raise errors.Forbidden(
                "Personal access tokens are created from a browser signed in with the "
                "password (the account page), not with a device login or another token."
            )
        name, days = validate_name(name), validate_days(expires_in_days)
        user_id = session.user.id
        now = to_ms(self._clock())
        token = new_access_token()
        new = NewToken(str(uuid.uuid4()), name, now, now + days * DAY_MS, None, token)
        async with self._db.write() as tx:
            live = await q.count_live(tx, user_id, now)
            if live >= MAX_TOKENS_PER_USER:
                raise ValidationFailed(
                    "name", f"An account holds at most {MAX_TOKENS_PER_USER} tokens: revoke one."
                )
            await tx.execute(
                q.INSERT,
                {
                    "id": new.id,
                    "token_hash": self._hasher.access_token(token),
                    "user_id": user_id,
                    "name": name,
                    "created_at": now,
                    "expires_at": new.expires_at,
                },
            )
            await audit.record(
                tx, now, "token_create", user_id=user_id, ip=caller.ip, detail=f"token {new.id}"
            )
        return new

    async def list_for_user(self, user_id: str) -> list[TokenInfo]:
        """The user's tokens, newest first (expired ones too, until swept)."""
        async with self._db.read() as tx:
            rows = await q.of_user(tx, user_id)
            return [TokenInfo(*row.values()) for row in rows]

    async def revoke(self, user_id: str, token_id: str, caller: Caller) -> bool:
        """Delete one of ``user_id``'s tokens; False if it is not theirs or does not exist
        (the API answers both with 404, so ids of others' tokens are not revealed)."""
        now = to_ms(self._clock())
        async with self._db.write() as tx:
            done = await q.delete_one(tx, user_id, token_id)
            if done:
                await audit.record(
                    tx,
                    now,
                    "token_revoke",
                    user_id=user_id,
                    ip=caller.ip,
                    detail=f"token {token_id}",
                )
        return done

    async def lookup(self, token: str) -> SessionView | None:
        """The live token and its user, shaped like a session (kind ``access_token``)."""
        if not token.startswith(ACCESS_TOKEN_PREFIX):
            return None
        now = to_ms(self._clock())
        row = await self._db.fetch_first(q.LOOKUP, {"token_hash": self._hasher.access_token(token)})
        if row is None or row.expires_at <= now:
            return None
        if now - (row.last_used_at or 0) >= LAST_USED_GRANULARITY_MS:
            await self._touch(row.id, now)
        return SessionView(
            session=Session(
                row.id, row.user_id, row.expires_at, row.created_at, row.created_at, None, None
            ),
            user=user_of(row),
            kind=ACCESS_TOKEN,
        )

    async def _touch(self, token_id: str, now: int) -> None:
        """Record the minute of last use, once however many requests see it stale."""
        if token_id in self._touching:
            return
        self._touching.add(token_id)
        try:
            await self._db.direct.statement(
                q.TOUCH,
                {"token_id": token_id, "stale_before": now - LAST_USED_GRANULARITY_MS, "now": now},
                durable=False,
            )
        finally:
            self._touching.discard(token_id)
