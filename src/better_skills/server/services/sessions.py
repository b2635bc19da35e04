"""Sessions: opaque bearer tokens whose keyed hash is the lookup key.

:meth:`SessionService.lookup` is the one place a presented token becomes a caller: a session
token (a browser's, from signing in with the password, or a device login's) or a personal
access token (``bsk_…``, see services/tokens). Its :class:`SessionView` says which, so that
a caller can refuse what a kind of token must not do (approve a login, mint a token).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from better_skills.server.db import Database
from better_skills.server.direct import Tx
from better_skills.server.queries import sessions as q
from better_skills.server.security import (
    ACCESS_TOKEN_PREFIX,
    Hasher,
    new_id,
    new_session_token,
)
from better_skills.server.services import Caller, Clock, audit, to_ms
from better_skills.server.services.auth_records import ListedSession, Session, User

if TYPE_CHECKING:
    from better_skills.server.services.tokens import TokenService

#: The kinds of credential :meth:`SessionService.lookup` knows.
BROWSER = "browser"  # signed in with the password (the pages, or the sign-in API)
DEVICE = "device"  # a device login (RFC 8628), e.g. the CLI
ACCESS_TOKEN = "access_token"  # a personal access token


def user_of(row: Any) -> User:
    """The account of a lookup row that selected :data:`USER_COLUMNS` and ``user_id``."""
    return User(
        row.user_id,
        row.name,
        row.email,
        bool(row.email_verified),
        row.image,
        row.user_created_at,
        row.user_updated_at,
    )


#: ``last_used_at`` is written at most this often per session, not on every request.
LAST_USED_GRANULARITY_MS = 60_000


@dataclass(frozen=True)
class NewSession:
    id: str
    token: str
    created_at: int
    expires_at: int


@dataclass(frozen=True)
class SessionView:
    """A valid session (or personal access token) and its user.

    ``kind`` is :data:`BROWSER`, :data:`DEVICE` or :data:`ACCESS_TOKEN`; ``scope`` is what a
    device login was granted (space separated, as stored), None for the other kinds.
    """

    session: Session
    user: User
    kind: str = BROWSER
    scope: str | None = None

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset((self.scope or "").split())

    @property
    def is_browser(self) -> bool:
        """Signed in with the password: the only kind that may approve logins or mint tokens."""
        return self.kind == BROWSER


@dataclass(frozen=True)
class SignOut:
    """What :meth:`SessionService.sign_out` did: ``ended`` a session, or not; ``kind`` of the
    presented token when it was valid (a personal access token is never ended by sign-out:
    revoke it instead)."""

    ended: bool
    kind: str | None


class SessionService:
    def __init__(self, db: Database, hasher: Hasher, clock: Clock, ttl_seconds: float) -> None:
        self._db = db
        self._hasher = hasher
        self._clock = clock
        self._touching: set[str] = set()  # sessions whose last use is being recorded
        self._ttl_ms = to_ms(ttl_seconds)
        #: Set by the container: personal access tokens are looked up there.
        self.tokens: TokenService | None = None

    async def create(
        self,
        tx: Tx,
        user_id: str,
        caller: Caller,
        *,
        kind: str,
        client_id: str | None = None,
        scope: str | None = None,
        hostname: str | None = None,
    ) -> NewSession:
        """Insert a session in the caller's transaction; the token leaves only in the result."""
        now = to_ms(self._clock())
        token = new_session_token()
        new = NewSession(new_id(), token, now, now + self._ttl_ms)
        await tx.execute(
            q.INSERT,
            {
                "id": new.id,
                "token_hash": self._hasher.session_token(token),
                "user_id": user_id,
                "kind": kind,
                "client_id": client_id,
                "scope": scope,
                "created_at": now,
                "updated_at": now,
                "last_used_at": now,
                "expires_at": new.expires_at,
                "ip_address": caller.ip,
                "user_agent": caller.user_agent,
                "hostname": hostname,
            },
        )
        return new

    async def lookup(
        self, token: str, *, kinds: Collection[str] | None = None
    ) -> SessionView | None:
        """The live session or personal access token for ``token``, or None; with ``kinds``,
        None unless it is of one of them (a cookie must only ever carry :data:`BROWSER`).

        Equality on an HMAC digest through a unique index: the comparison never runs over the
        secret itself, so timing tells nothing."""
        if not token or len(token) > 512:
            return None
        if self.tokens is not None and token.startswith(ACCESS_TOKEN_PREFIX):
            if kinds is not None and ACCESS_TOKEN not in kinds:
                return None
            return await self.tokens.lookup(token)
        view = await self._lookup_session(token)
        if view is None or (kinds is not None and view.kind not in kinds):
            return None
        return view

    async def _lookup_session(self, token: str) -> SessionView | None:
        now = to_ms(self._clock())
        digest = self._hasher.session_token(token)
        row = await self._db.fetch_first(q.LOOKUP, {"token_hash": digest})
        if row is None or row.expires_at <= now:
            return None
        if now - row.last_used_at >= LAST_USED_GRANULARITY_MS:
            await self._touch(row.id, now)
        return SessionView(
            session=Session(
                row.id,
                row.user_id,
                row.expires_at,
                row.created_at,
                row.updated_at,
                row.ip_address,
                row.user_agent,
            ),
            user=user_of(row),
            kind=row.kind,
            scope=row.scope if row.kind == DEVICE else None,
        )

    async def _touch(self, session_id: str, now: int) -> None:
        """Record the minute of last use, once per session however many requests see it stale
        at once: a client with 32 requests in flight started 32 identical UPDATEs of one row
        (and as many new pooled connections), which stalled its requests for 100 ms and more.
        """
        if session_id in self._touching:
            return  # another request of this process is recording it right now
        self._touching.add(session_id)
        try:
            # Not durable: a last-use time lost in a database crash harms nobody.
            await self._db.direct.statement(
                q.TOUCH,
                {
                    "session_id": session_id,
                    "stale_before": now - LAST_USED_GRANULARITY_MS,
                    "now": now,
                },
                durable=False,
            )
        finally:
            self._touching.discard(session_id)

    async def sign_out(self, token: str, caller: Caller) -> bool:
        """End the session of ``token`` (only that one). True if there was one."""
        return (await self.sign_out_detail(token, caller)).ended

    async def sign_out_detail(self, token: str, caller: Caller) -> SignOut:
        """End the session of ``token`` and say what happened (see :class:`SignOut`)."""
        if self.tokens is not None and token.startswith(ACCESS_TOKEN_PREFIX):
            valid = await self.tokens.lookup(token) is not None
            return SignOut(ended=False, kind=ACCESS_TOKEN if valid else None)
        now = to_ms(self._clock())
        async with self._db.write() as tx:
            row = await q.end_by_token(tx, self._hasher.session_token(token), now)
            if row is not None:
                await audit.record(
                    tx,
                    now,
                    "sign_out",
                    user_id=row.user_id,
                    client_id=row.client_id,
                    ip=caller.ip,
                )
        return SignOut(ended=row is not None, kind=row.kind if row is not None else None)

    async def revoke_all(self, user_id: str, caller: Caller) -> int:
        """Sign out everywhere: end every session of ``user_id`` (browser and device
        logins alike, this browser's too). Personal access tokens are not sessions and are
        revoked one by one. Returns how many sessions were ended."""
        now = to_ms(self._clock())
        async with self._db.write() as tx:
            done = await q.delete_all_of(tx, user_id)
            await audit.record(
                tx,
                now,
                "revoke_all",
                user_id=user_id,
                ip=caller.ip,
                detail=f"{done} sessions",
            )
        return done

    async def revoke(self, user_id: str, session_id: str, caller: Caller) -> bool:
        """Revoke one of ``user_id``'s own sessions by id. True if it existed."""
        now = to_ms(self._clock())
        async with self._db.write() as tx:
            row = await q.delete_one(tx, user_id, session_id)
            if row is not None:
                await audit.record(
                    tx,
                    now,
                    "revoke",
                    user_id=user_id,
                    client_id=row.client_id,
                    ip=caller.ip,
                    detail=f"session {session_id}",
                )
        return row is not None

    async def list_for_user(self, user_id: str) -> list[ListedSession]:
        """The user's live sessions, newest first."""
        now = to_ms(self._clock())
        async with self._db.read() as tx:
            rows = await q.live_of(tx, user_id, now)
            return [ListedSession.of_row(row) for row in rows]
