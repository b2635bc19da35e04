"""The device authorization grant (RFC 8628): issue codes, poll, look up, claim, decide.

A code's life::

    pending --approve--> approved --redeem (one poll wins)--> redeemed
       |                                                         (then invalid_grant forever)
       +--deny--> denied --first poll--> denied_seen             (access_denied once)
    any live state past expires_at --first poll--> expired_seen   (expired_token once)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NoReturn

from better_skills.protocol import errors
from better_skills.protocol.device_flow import (
    DEVICE_CODE_GRANT_TYPE,
    HOSTNAME_FIELD,
    MAX_HOSTNAME,
    SLOW_DOWN_INCREMENT,
    clean_hostname,
    format_user_code,
    is_user_code,
    normalize_user_code,
)
from better_skills.server.db import Database
from better_skills.server.direct import Conflict
from better_skills.server.queries import device_codes as q
from better_skills.server.queries import rate_limits as rate_queries
from better_skills.server.queries import sessions as session_queries
from better_skills.server.queries import tokens as token_queries
from better_skills.server.queries.device_codes import (
    APPROVED,
    DENIED,
    DENIED_SEEN,
    EXPIRED_SEEN,
    FINISHED,
    PENDING,
    REDEEMED,
)
from better_skills.server.security import Hasher, new_device_code, new_id, new_user_code
from better_skills.server.services import Caller, Clock, audit, to_ms
from better_skills.server.services.rate_limit import RateLimiter, address_bucket
from better_skills.server.services.sessions import SessionService
from better_skills.server.services.tokens import EXPIRED_GRACE_MS as TOKEN_GRACE_MS
from better_skills.server.settings import Settings

#: How long finished and expired codes stay before the sweeper deletes them.
SWEEP_GRACE_MS = 10 * 60 * 1000
MAX_SCOPE = 1000


class ClaimedByAnother(errors.AccessDenied):
    """The code was opened (claimed) by another account first: RFC 6749's ``access_denied``,
    with 403 rather than 400 because the caller is signed in but not the code's owner."""

    status_code = 403
    default_description = "This code was opened by another account."


@dataclass(frozen=True)
class IssuedCode:
    device_code: str
    user_code: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    scope: str | None


@dataclass(frozen=True)
class DeviceRequest:
    """What the approval page shows about a code."""

    user_code: str
    status: str  # pending, approved or denied
    client_id: str
    scope: str | None
    created_at: int
    expires_at: int
    ip_address: str | None
    user_agent: str | None
    claimed_by_caller: bool
    hostname: str | None = None  # the computer's name, as the device request gave it


class InvalidUserCode(errors.InvalidRequest):
    """No live code matches what was typed (counts against the guessing limits)."""

    default_description = "Invalid user code"


class DeviceFlowService:
    def __init__(
        self,
        db: Database,
        hasher: Hasher,
        limiter: RateLimiter,
        sessions: SessionService,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._hasher = hasher
        self._limiter = limiter
        self._sessions = sessions
        self._clock = clock
        self._settings = settings

    def check_client(self, client_id: str | None) -> str:
        if not client_id:
            raise errors.InvalidRequest("client_id is required.")
        if client_id not in self._settings.client_ids:
            raise errors.InvalidClient(f"Unknown client_id {client_id[:100]!r}.")
        return client_id

    # -- RFC 8628 §3.1-3.2: the device authorization request -------------------------------

    async def issue(
        self,
        client_id: str | None,
        scope: str | None,
        caller: Caller,
        hostname: str | None = None,
    ) -> IssuedCode:
        client_id = self.check_client(client_id)
        if hostname is not None:
            hostname = clean_hostname(hostname)
            if hostname is None:
                raise errors.InvalidRequest(
                    f"{HOSTNAME_FIELD} must be printable text of at most {MAX_HOSTNAME} characters."
                )
        if scope is not None and (
            len(scope) > MAX_SCOPE or not all(0x20 < ord(c) < 0x7F or c == " " for c in scope)
        ):
            raise errors.InvalidRequest("scope must be printable ASCII, space separated.")
        scope = " ".join(scope.split()) if scope else None
        now = to_ms(self._clock())
        ttl_ms = to_ms(self._settings.device_code_ttl)
        wait = await self._limiter.count(
            self._db,
            f"device_code:ip:{address_bucket(caller.ip)}",
            self._settings.device_code_limit,
            now,
        )
        if wait is not None:
            raise errors.TooManyRequests(
                "Too many login codes requested from this address.", retry_after=wait
            )
        for _attempt in range(5):
            device_code, user_code = new_device_code(), new_user_code()
            row = {
                "id": new_id(),
                "device_code_hash": self._hasher.device_code(device_code),
                "user_code_hash": self._hasher.user_code(user_code),
                "client_id": client_id,
                "scope": scope,
                "status": PENDING,
                "created_at": now,
                "expires_at": now + ttl_ms,
                "poll_interval": self._settings.poll_interval,
                "polled_too_fast": False,
                "ip_address": caller.ip,
                "user_agent": caller.user_agent,
                "hostname": hostname,
            }
            try:
                await q.issue(self._db.direct, row)
            except Conflict:
                continue  # a user code collided with a live one: draw again
            return IssuedCode(
                device_code=device_code,
                user_code=format_user_code(user_code),
                expires_in=ttl_ms // 1000,
                interval=self._settings.poll_interval,
            )
        raise errors.ServiceUnavailable("Could not allocate a unique user code; try again.")

    # -- RFC 8628 §3.4-3.5: the device access token request --------------------------------

    async def poll(
        self,
        grant_type: str | None,
        device_code: str | None,
        client_id: str | None,
        caller: Caller,
    ) -> TokenGrant:
        if grant_type != DEVICE_CODE_GRANT_TYPE:
            if not grant_type:
                raise errors.InvalidRequest("grant_type is required.")
            raise errors.UnsupportedGrantType(f"grant_type must be {DEVICE_CODE_GRANT_TYPE}.")
        if not device_code:
            raise errors.InvalidRequest("device_code is required.")
        client_id = self.check_client(client_id)
        now = to_ms(self._clock())
        # Each slow_down adds 5 s, but a flood of polls must not grow it without bound: an
        # interval longer than the code lives means nothing.
        cap = max(
            self._settings.poll_interval, min(math.ceil(self._settings.device_code_ttl), 86400)
        )
        # Most polls only record the poll time, in one statement: losing that in a database
        # crash harms nobody, so on PostgreSQL its commit does not wait for the disk.
        row, _ = await self._db.direct.statement(
            q.POLL,
            {
                "code_hash": self._hasher.device_code(device_code),
                "poll_client_id": client_id,
                "now": now,
                "cap": cap,
                "cap_less_step": cap - SLOW_DOWN_INCREMENT,
            },
            durable=False,
        )
        if row is None or row.status in FINISHED:
            raise errors.InvalidGrant()
        if row.polled_too_fast:
            raise errors.SlowDown(
                f"Polling too fast; wait {row.poll_interval} seconds between requests."
            )
        if row.expires_at <= now:
            await self._close(row.id, row.status, EXPIRED_SEEN, errors.ExpiredToken())
        if row.status == PENDING:
            raise errors.AuthorizationPending()
        if row.status == DENIED:
            await self._close(
                row.id,
                DENIED,
                DENIED_SEEN,
                errors.AccessDenied("The request was denied in the browser."),
            )
        return await self._redeem(row, client_id, caller, now)

    async def _redeem(self, row: Any, client_id: str, caller: Caller, now: int) -> TokenGrant:
        """An approved code becomes a session, once: the conditional UPDATE is the single-use
        gate. Of N concurrent polls one changes the row; the others see no row changed
        (PostgreSQL re-checks the WHERE after the winner commits; SQLite serialises writers)."""
        async with self._db.direct.transaction() as tx:
            if await tx.execute(q.REDEEM, {"code_id": row.id, "now": now}) != 1:
                raise errors.InvalidGrant()
            new = await self._sessions.create(
                tx,
                row.user_id,
                caller,
                kind="device",
                client_id=client_id,
                scope=row.scope,
                hostname=row.hostname,
            )
            await audit.record(
                tx,
                now,
                "redeem",
                user_id=row.user_id,
                client_id=client_id,
                ip=caller.ip,
                detail=f"session {new.id}",
            )
        return TokenGrant(new.token, (new.expires_at - now) // 1000, row.scope)

    async def _close(self, code_id: str, old: str, new: str, error: errors.OAuthError) -> NoReturn:
        """Report a final state once; later polls get ``invalid_grant``."""
        _, changed = await self._db.direct.statement(
            q.TRANSITION, {"code_id": code_id, "old": old, "new": new}
        )
        raise error if changed == 1 else errors.InvalidGrant()

    # -- The verification page: look up, claim, approve, deny -------------------------------

    def _guess_keys(self, caller: Caller, user_id: str | None) -> list[str]:
        keys = [f"user_code:ip:{address_bucket(caller.ip)}"]
        if user_id:
            keys.append(f"user_code:user:{user_id}")
        return keys

    async def _find_row(self, user_code: str, user_id: str | None, caller: Caller, now: int) -> Any:
        """The row for a typed code, counting a miss against the guessing limits."""
        rule = self._settings.user_code_limit
        keys = self._guess_keys(caller, user_id)
        code = normalize_user_code(user_code or "")
        # Count the attempt first and give it back if the code exists, in one transaction, so
        # that concurrent guesses cannot all pass the check before any of them is counted.
        async with self._db.write() as tx:
            reservation = await self._limiter.reserve(tx, keys, rule, now, "Too many wrong codes.")
            row = None
            if is_user_code(code):
                row = await q.by_user_code(tx, self._hasher.user_code(code))
            if row is not None:
                await self._limiter.refund(tx, reservation)
        if row is None:
            raise InvalidUserCode()
        if row.expires_at <= now or row.status == EXPIRED_SEEN:
            raise errors.ExpiredToken("This code has expired. Start the login again.")
        return row

    async def lookup(self, user_code: str, user_id: str | None, caller: Caller) -> DeviceRequest:
        """Find a code; for a signed-in user also claim it (first claimer owns the approval)."""
        now = to_ms(self._clock())
        row = await self._find_row(user_code, user_id, caller, now)
        owner = row.user_id
        if user_id is not None and owner is None and row.status == PENDING:
            async with self._db.write() as tx:
                if await q.claim(tx, row.id, user_id, now):
                    await audit.record(
                        tx, now, "claim", user_id=user_id, client_id=row.client_id, ip=caller.ip
                    )
                    owner = user_id
                else:
                    owner = await q.owner(tx, row.id)
        if user_id is not None and owner != user_id:
            raise ClaimedByAnother()
        status = {
            APPROVED: "approved",
            REDEEMED: "approved",
            DENIED: "denied",
            DENIED_SEEN: "denied",
        }.get(row.status, "pending")
        return DeviceRequest(
            user_code=format_user_code(normalize_user_code(user_code)),
            status=status,
            client_id=row.client_id,
            scope=row.scope,
            created_at=row.created_at,
            expires_at=row.expires_at,
            ip_address=row.ip_address,
            user_agent=row.user_agent,
            claimed_by_caller=user_id is not None and owner == user_id,
            hostname=row.hostname,
        )

    async def decide(self, user_code: str, user_id: str, approve: bool, caller: Caller) -> None:
        """Approve or deny a code the same user claimed first."""
        now = to_ms(self._clock())
        row = await self._find_row(user_code, user_id, caller, now)
        if row.user_id is None:
            raise errors.InvalidRequest("Open the code on the device page before approving it.")
        if row.user_id != user_id:
            raise ClaimedByAnother()
        if row.status != PENDING:
            raise errors.InvalidRequest("This code was already approved or denied.")
        async with self._db.write() as tx:
            done = await q.decide(tx, row.id, user_id, APPROVED if approve else DENIED, now)
            if done:
                await audit.record(
                    tx,
                    now,
                    "approve" if approve else "deny",
                    user_id=user_id,
                    client_id=row.client_id,
                    ip=caller.ip,
                )
        if not done:
            raise errors.InvalidRequest("This code was already approved or denied.")

    # -- Housekeeping ----------------------------------------------------------------------

    async def sweep(self) -> dict[str, int]:
        """Delete expired codes, sessions, access tokens and full rate-limit buckets; returns
        rows deleted."""
        now = to_ms(self._clock())
        async with self._db.write() as tx:
            codes = await q.delete_expired(tx, now - SWEEP_GRACE_MS)
            expired = await session_queries.delete_expired(tx, now)
            windows = await rate_queries.delete_full(tx, now)
            tokens = await token_queries.delete_expired(tx, now - TOKEN_GRACE_MS)
        return {
            "device_codes": codes,
            "sessions": expired,
            "rate_limits": windows,
            "access_tokens": tokens,
        }
